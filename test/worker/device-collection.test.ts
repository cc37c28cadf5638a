import { env, runInDurableObject } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { database } from "../../edge/db/client";
import { deviceLogins, hosts } from "../../edge/db/schema";
import { connectPacer } from "../../edge/hosts/connect-pacer";
import { DialGroups } from "../../edge/hosts/dial-groups";
import { sha256Hex } from "../../edge/identity/crypto";
import { call, registerUser, unique } from "./helpers";

/**
 * What a device login leaves behind and what its answers let caches keep: an approval in the
 * code's last seconds stays collectable, an approved login nobody collects takes its host with
 * it, and token answers are no-store. (A bad public origin storing nothing: test/e2e/device-login.test.ts.)
 */

type Codes = { deviceCode: string; userCode: string; hostname: string };

/** A new device login, from a machine whose (unique) hostname names its row. */
async function newCodes(): Promise<Codes> {
  const hostname = unique("box-");
  const res = await call("/api/v1/device/codes", { body: { hostname, os: "linux", arch: "x64" } });
  expect(res.status).toBe(201);
  return { ...((await res.json()) as Codes), hostname };
}

const byHostname = (codes: Codes) => eq(deviceLogins.hostname, codes.hostname);

const loginRow = async (hostId: string) =>
  (await database(env.DB).select().from(deviceLogins).where(eq(deviceLogins.hostId, hostId)))[0];

async function approve(token: string, userCode: string): Promise<string> {
  const res = await call(`/api/v1/device/codes/${userCode}/approval`, { token, body: { name: unique("dev-") } });
  expect(res.status).toBe(201);
  return ((await res.json()) as { host: { id: string } }).host.id;
}

async function hostIds(token: string): Promise<string[]> {
  const res = await call("/api/hosts", { token });
  return ((await res.json()) as { data: { hosts: Array<{ id: string }> } }).data.hosts.map((host) => host.id);
}

describe("approving a device login", () => {
  it("keeps it collectable for at least two polls and 30 s, however close to expiry it came", async () => {
    const user = await registerUser();
    const codes = await newCodes();
    // The code's last second: without the extension, the agent's next poll would find it expired.
    await database(env.DB)
      .update(deviceLogins)
      .set({ expiresAt: new Date(Date.now() + 1000) })
      .where(byHostname(codes));
    const before = Date.now();
    const hostId = await approve(user.accessToken, codes.userCode);
    const row = await loginRow(hostId);
    expect(row?.expiresAt.getTime()).toBeGreaterThanOrEqual(before + 40_000);
  });

  it("an approved login that expires uncollected loses its placeholder host at the next sweep", async () => {
    const user = await registerUser();
    const codes = await newCodes();
    const hostId = await approve(user.accessToken, codes.userCode);
    expect(await hostIds(user.accessToken)).toContain(hostId);
    await database(env.DB)
      .update(deviceLogins)
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where(eq(deviceLogins.hostId, hostId));
    await newCodes(); // any new login sweeps
    expect(await hostIds(user.accessToken)).not.toContain(hostId);
    expect(await database(env.DB).select().from(hosts).where(eq(hosts.id, hostId))).toEqual([]);
  });
});

describe("answers that carry an agent token", () => {
  it("are Cache-Control: no-store (RFC 6749 §5.1): enrolling, and every device token poll", async () => {
    const user = await registerUser();
    const enrolled = await call("/api/hosts", { token: user.accessToken, body: { name: unique("h") } });
    expect(enrolled.status).toBe(201);
    expect(enrolled.headers.get("cache-control")).toBe("no-store");

    const codes = await newCodes();
    const pending = await call("/api/v1/device/token", { body: { deviceCode: codes.deviceCode } });
    expect(pending.status).toBe(200);
    expect(pending.headers.get("cache-control")).toBe("no-store");
    await approve(user.accessToken, codes.userCode);
    // The poll pace (DEVICE_POLL_INTERVAL_SECONDS) is kept in the row: clear it rather than wait.
    await database(env.DB).update(deviceLogins).set({ polledAt: null }).where(byHostname(codes));
    const approved = await call("/api/v1/device/token", { body: { deviceCode: codes.deviceCode } });
    expect(approved.status).toBe(200);
    expect(approved.headers.get("cache-control")).toBe("no-store");
    // The connect pacer learns whose the new token is as it is issued (the host's first dial is paced unread).
    const { token } = (await approved.json()) as { token: string };
    const tokenHash = await sha256Hex(token);
    const pacer = connectPacer(env);
    await expect
      .poll(() => runInDurableObject(pacer, (_instance, state) => new DialGroups(state.storage.kv).of(tokenHash)))
      .toBeDefined();
  });
});

describe("the device routes' OpenAPI declarations", () => {
  it("declare the 422 a too-long user code gets, and the 400 of a bad Host on a new code", async () => {
    const doc = (await (await call("/api/openapi.json")).json()) as {
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    };
    const responses = (path: string, method: string) => Object.keys(doc.paths[path]?.[method]?.responses ?? {});
    expect(responses("/api/v1/device/codes/{userCode}", "get")).toContain("422");
    expect(responses("/api/v1/device/codes/{userCode}/approval", "post")).toContain("422");
    expect(responses("/api/v1/device/codes/{userCode}/denial", "post")).toContain("422");
    expect(responses("/api/v1/device/codes", "post")).toContain("400");
    const long = await call(`/api/v1/device/codes/${"B".repeat(40)}`, { token: (await registerUser()).accessToken });
    expect(long.status).toBe(422);
  });
});
