import { env, SELF } from "cloudflare:test";
import { and, desc, eq, isNotNull } from "drizzle-orm";
import { expect } from "vitest";
import { database } from "../../edge/db/client";
import { devMailbox } from "../../edge/db/schema";

export const BASE = "https://kai.test";

let counter = 0;
/** A fresh value per call, so tests never share accounts, IPs or rate-limit buckets. */
export function unique(prefix: string): string {
  counter += 1;
  return `${prefix}${Date.now().toString(36)}${counter}${Math.random().toString(36).slice(2, 6)}`;
}

export function randomIp(): string {
  const octet = () => Math.floor(Math.random() * 254) + 1;
  return `10.${octet()}.${octet()}.${octet()}`;
}

export interface CallOptions {
  method?: string;
  body?: unknown;
  token?: string;
  ip?: string;
  headers?: Record<string, string>;
}

/** Calls the Worker exactly as a client would, through its fetch handler on workerd. */
export function call(path: string, options: CallOptions = {}): Promise<Response> {
  const headers = new Headers(options.headers);
  headers.set("CF-Connecting-IP", options.ip ?? randomIp());
  if (options.token) headers.set("Authorization", `Bearer ${options.token}`);
  let body: string | undefined;
  if (options.body !== undefined) {
    body = typeof options.body === "string" ? options.body : JSON.stringify(options.body);
    if (!headers.has("content-type")) headers.set("content-type", "application/json");
  }
  return SELF.fetch(`${BASE}${path}`, { method: options.method ?? (body ? "POST" : "GET"), headers, body });
}

/** The latest code the development mailer stored for an email (tests read D1 directly). */
export async function latestCode(email: string): Promise<string> {
  const [row] = await database(env.DB)
    .select({ code: devMailbox.code })
    .from(devMailbox)
    .where(and(eq(devMailbox.to, email.toLowerCase())))
    .orderBy(desc(devMailbox.createdAt))
    .limit(1);
  if (!row?.code) throw new Error(`no code was mailed to ${email}`);
  return row.code;
}

/** The newest verification code mailed to an email, skipping later notices that carry none. */
export async function newestCode(email: string): Promise<string> {
  const [row] = await database(env.DB)
    .select({ code: devMailbox.code })
    .from(devMailbox)
    .where(and(eq(devMailbox.to, email.toLowerCase()), isNotNull(devMailbox.code)))
    .orderBy(desc(devMailbox.createdAt))
    .limit(1);
  if (!row?.code) throw new Error(`no code was mailed to ${email}`);
  return row.code;
}

export interface TestUser {
  id: string;
  email: string;
  username: string;
  password: string;
  accessToken: string;
  refreshToken: string;
  cookie: string;
}

/** Registers and verifies a user through the real routes. */
export async function registerUser(
  overrides: Partial<Pick<TestUser, "email" | "username" | "password">> = {},
): Promise<TestUser> {
  const username = overrides.username ?? unique("u_");
  const email = overrides.email ?? `${unique("user")}@example.com`;
  const password = overrides.password ?? "correct horse battery";
  const ip = randomIp();
  const started = await call("/api/v1/auth/verifications", { body: { username, email, password }, ip });
  expect(started.status).toBe(202);
  const verified = await call("/api/v1/auth/verifications/verify", {
    body: { email, token: await latestCode(email) },
    ip,
  });
  expect(verified.status).toBe(200);
  const tokens = (await verified.json()) as { access_token: string; refresh_token: string; user: { id: string } };
  return {
    id: tokens.user.id,
    email: email.toLowerCase(),
    username,
    password,
    accessToken: tokens.access_token,
    refreshToken: tokens.refresh_token,
    cookie: sessionCookieOf(verified),
  };
}

/** The `__Host-kai_session=…` pair from a response's Set-Cookie, ready for a Cookie header. */
export function sessionCookieOf(response: Response): string {
  const setCookie = response.headers.get("set-cookie") ?? "";
  const match = /(__Host-kai_session=[^;]+)/.exec(setCookie);
  if (!match?.[1]) throw new Error(`no session cookie in ${setCookie}`);
  return match[1];
}

/** Asserts an RFC 7807 answer with the given status and code, and returns its body. */
export async function expectProblem(response: Response, status: number, code: string) {
  expect(response.status).toBe(status);
  expect(response.headers.get("content-type")).toContain("application/problem+json");
  const body = (await response.json()) as Record<string, unknown>;
  expect(body).toMatchObject({ type: "about:blank", status, code });
  expect(typeof body["title"]).toBe("string");
  expect(typeof body["detail"]).toBe("string");
  expect(JSON.stringify(body)).not.toMatch(/at .*\.(ts|js):\d+/);
  return body;
}

/** Asserts a Kai envelope error with the given status and code, and returns its body. */
export async function expectEnvelopeError(response: Response, status: number, code: string) {
  expect(response.status).toBe(status);
  expect(response.headers.get("content-type")).toContain("application/json");
  const body = (await response.json()) as {
    success: boolean;
    error: { code: string; message: string };
    timestamp: string;
  };
  expect(body.success).toBe(false);
  expect(body.error.code).toBe(code);
  expect(typeof body.error.message).toBe("string");
  expect(typeof body.timestamp).toBe("string");
  expect(JSON.stringify(body)).not.toMatch(/at .*\.(ts|js):\d+/);
  return body;
}
