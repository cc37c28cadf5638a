import type { StreamOp } from "../../shared/commands";
import { decodeStreamFrame, type StreamFrame } from "../../shared/stream-frames";

/**
 * A small client for end-to-end tests: talks to a running edge over real HTTP, the way a
 * user's script would.
 */
export interface Session {
  url: string;
  token: string;
  email: string;
}

export interface CallResult<T = unknown> {
  status: number;
  body: T;
  headers: Headers;
}

let counter = 0;
export const uniqueName = (prefix: string) => `${prefix}${process.pid}${Date.now().toString(36)}${(counter += 1)}`;

export async function request<T = any>(
  url: string,
  path: string,
  init: { method?: string; token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<CallResult<T>> {
  const headers = new Headers(init.headers);
  if (init.token) headers.set("authorization", `Bearer ${init.token}`);
  if (init.body !== undefined) headers.set("content-type", "application/json");
  const response = await fetch(`${url}${path}`, {
    method: init.method ?? (init.body === undefined ? "GET" : "POST"),
    headers,
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, body: body as T, headers: response.headers };
}

/** The password `signUp` registers every test user with (a browser test signs in with it). */
export const TEST_PASSWORD = "e2e-password";

/** Registers a user through the real routes (code read from the development mailbox) and makes a personal API token. */
export async function signUp(url: string): Promise<Session> {
  const username = uniqueName("e2e_");
  const email = `${username}@example.com`;
  const password = TEST_PASSWORD;
  const started = await request(url, "/api/v1/auth/verifications", { body: { username, email, password } });
  if (started.status !== 202) throw new Error(`registration failed: ${started.status} ${JSON.stringify(started.body)}`);
  const mailbox = await request<{ messages: { code: string }[] }>(
    url,
    `/api/v1/dev/mailbox?email=${encodeURIComponent(email)}`,
  );
  const code = mailbox.body.messages[0]?.code;
  const verified = await request<{ access_token: string }>(url, "/api/v1/auth/verifications/verify", {
    body: { email, token: code },
  });
  if (verified.status !== 200) throw new Error(`verification failed: ${verified.status}`);
  const created = await request<{ data: { token: string } }>(url, "/api/tokens", {
    token: verified.body.access_token,
    body: { name: "e2e" },
  });
  return { url, token: created.body.data.token, email };
}

/** Enrolls a host and returns its id and agent token. */
export async function enrollHost(
  session: Session,
  name = uniqueName("host-"),
): Promise<{ id: string; token: string; name: string }> {
  const res = await request<{ data: { host: { id: string }; token: string } }>(session.url, "/api/hosts", {
    token: session.token,
    body: { name },
  });
  if (res.status !== 201) throw new Error(`enrolling failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { id: res.body.data.host.id, token: res.body.data.token, name };
}

/**
 * Reads one frame a stream's WebSocket delivered (a log follow, a script's output, workspace
 * events), checked against its command's schemas as any client would (shared/stream-frames.ts).
 */
export function streamFrameOf<O extends StreamOp>(op: O, data: { toString(): string }): StreamFrame<O> {
  return decodeStreamFrame(op, data.toString());
}
