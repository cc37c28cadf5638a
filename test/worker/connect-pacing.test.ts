import { env, runInDurableObject, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { connectPacer } from "../../edge/hosts/connect-pacer";
import { DialGroups } from "../../edge/hosts/dial-groups";
import { UNATTRIBUTED } from "../../edge/middleware/client-ip";
import { BAD_AGENT_TOKENS_PER_IP } from "../../edge/middleware/rate-limit";
import { CLOSE_CODES } from "../../shared/protocol";
import { connectAgent, dial, enrolledHost, hello } from "./agent-socket";
import { BASE, call, expectEnvelopeError } from "./helpers";
import { watchStatements } from "./sql-capture";

/**
 * The wiring of connect turns through the real RateLimiter Durable Object: its `pace` and
 * `release` reach one ConnectTurns per bucket. How turns are paced, capped, queued and
 * refused is tested on a fake clock in edge/connect-turns.test.ts.
 */
const pacer = () => env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(`pace-test-${crypto.randomUUID()}`));
const leased = { intervalMs: 1, burst: 1, maxWaitMs: 10_000, maxPerGroup: 100, inFlight: 1, leaseMs: 60_000 };

describe("connect admission through the RateLimiter Durable Object", () => {
  it("holds the next turn until the one in flight is released", async () => {
    const bucket = pacer();
    const first = await bucket.pace({ ...leased, holder: "a", group: "u" });
    if (!first.admitted) throw new Error("the first caller was refused");
    let settled = false;
    const second = bucket.pace({ ...leased, holder: "b", group: "v" }).then((turn) => {
      settled = true;
      return turn;
    });
    // Another call on the same object is answered after the second one was queued.
    await bucket.hit(1000, 60);
    expect(settled).toBe(false);
    await bucket.release(first.lease);
    expect((await second).admitted).toBe(true);
  });
});

describe("an agent dial is paced before its token is read", () => {
  const tokenHashOf = async (token: string) =>
    Array.from(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token))))
      .map((byte) => byte.toString(16).padStart(2, "0"))
      .join("");
  const dialWith = (token: string) =>
    SELF.fetch(`${BASE}/api/agent/connect`, { headers: { Upgrade: "websocket", Authorization: `Bearer ${token}` } });
  /** The pacer's answer for this token's dial when it gives a user no turn at all (as to a herd it has no room for). */
  const refusedTurn = (tokenHash: string) =>
    connectPacer(env).paceDial({
      intervalMs: 5_000,
      burst: 1,
      maxWaitMs: 10_000,
      holder: tokenHash,
      maxPerGroup: 0,
    });

  /** The D1 statements that name this token's hash (its reads), as they run, until `stop`. */
  const readsOf = (tokenHash: string) => {
    const reads: unknown[][] = [];
    const stop = watchStatements((_query, values) => {
      if (values.includes(tokenHash)) reads.push(values);
    });
    return { reads, stop };
  };
  /** Whose the pacer knows this token's dials to be (its storage, read in place: asking it to pace would change it). */
  const groupOf = (tokenHash: string) =>
    runInDurableObject(connectPacer(env), (_instance, state) => new DialGroups(state.storage.kv).of(tokenHash));
  /** An enrolled host whose token the pacer does not know: it missed the enrollment (or lost its storage since). */
  const unknownToPacer = async () => {
    const enrolled = await enrolledHost();
    const tokenHash = await tokenHashOf(enrolled.token);
    await expect.poll(() => groupOf(tokenHash)).toBeDefined();
    await connectPacer(env).forgetDialer(tokenHash);
    return { enrolled, tokenHash };
  };

  it("knows a host's token from its enrollment: even its first dial waits for a turn before any read", async () => {
    const enrolled = await enrolledHost();
    const tokenHash = await tokenHashOf(enrolled.token);
    const { reads, stop } = readsOf(tokenHash);
    try {
      await expect.poll(() => groupOf(tokenHash)).toBeDefined();
      // The pace has no room for this user: the first dial is sent away with its token unread.
      expect((await refusedTurn(tokenHash))?.admitted).toBe(false);
      const first = await dialWith(enrolled.token);
      expect(first.status).toBe(429);
      expect(Number(first.headers.get("Retry-After"))).toBeGreaterThan(0);
      expect(reads).toHaveLength(0);
    } finally {
      stop();
    }
  });

  it("reads no token for a known host's dial the pace refuses, and reads it once for a dial let in", async () => {
    const { enrolled, tokenHash } = await unknownToPacer();
    const { reads, stop } = readsOf(tokenHash);
    try {
      // Never seen: the pacer knows no user for it and takes no turn; the Worker reads it first.
      expect(await refusedTurn(tokenHash)).toBeUndefined();
      const agent = await connectAgent(enrolled);
      expect(reads).toHaveLength(1);
      agent.socket.close(1000, "done");
      // Checked once, the pacer groups its dials with the user's before any read: refused here.
      expect((await refusedTurn(tokenHash))?.admitted).toBe(false);
      const again = await dialWith(enrolled.token);
      expect(again.status).toBe(429);
      expect(Number(again.headers.get("Retry-After"))).toBeGreaterThan(0);
      expect(reads).toHaveLength(1);
    } finally {
      stop();
    }
  });

  it("refuses a forged token with no turn and nothing kept, and forgets a known token once it is no host's", async () => {
    const forged = `kai_agent_${crypto.randomUUID()}`;
    await expectEnvelopeError(await dialWith(forged), 401, "UNAUTHORIZED");
    await expectEnvelopeError(await dialWith("not-a-token"), 401, "UNAUTHORIZED");
    // Read first and refused: the pacer learnt nothing of it, so it still gives it no turn.
    expect(await refusedTurn(await tokenHashOf(forged))).toBeUndefined();

    // A host that connected once, then was deleted: the pacer forgets its token.
    const enrolled = await enrolledHost();
    const tokenHash = await tokenHashOf(enrolled.token);
    const agent = await connectAgent(enrolled);
    agent.socket.close(1000, "done");
    expect(await refusedTurn(tokenHash)).toBeDefined();
    const deleted = await call(`/api/hosts/${enrolled.host.id}`, {
      method: "DELETE",
      token: enrolled.user.accessToken,
    });
    expect(deleted.status).toBe(200);
    await expect.poll(() => refusedTurn(tokenHash)).toBeUndefined();
  });

  it("refuses an IP that sent too many tokens no host has before reading the next one", async () => {
    const statuses: number[] = [];
    let refusedHash = "";
    const reads: string[] = [];
    const stop = watchStatements((_query, values) => {
      for (const value of values) if (typeof value === "string") reads.push(value);
    });
    try {
      // This file's earlier forged dials count too (every test caller shares one unattributed IP).
      for (let dials = 0; dials <= BAD_AGENT_TOKENS_PER_IP.limit && !statuses.includes(429); dials++) {
        const forged = `kai_agent_${crypto.randomUUID()}`;
        const response = await dialWith(forged);
        statuses.push(response.status);
        if (response.status === 429) {
          refusedHash = await tokenHashOf(forged);
          expect(Number(response.headers.get("Retry-After"))).toBeGreaterThan(0);
        }
      }
    } finally {
      stop();
      // Every test caller shares that IP: the others' new hosts must not find its budget spent.
      const bucket = env.RATE_LIMITER.idFromName(`${BAD_AGENT_TOKENS_PER_IP.name}:${UNATTRIBUTED}`);
      await runInDurableObject(env.RATE_LIMITER.get(bucket), (_instance, state) => state.storage.deleteAll());
    }
    expect(statuses.at(-1)).toBe(429);
    expect(statuses.slice(0, -1).every((status) => status === 401)).toBe(true);
    expect(reads).not.toContain(refusedHash);
  });

  it("reads at most a burst of never-seen tokens at once: the next first dial is sent away unread", async () => {
    const { enrolled, tokenHash } = await unknownToPacer();
    const { reads, stop } = readsOf(tokenHash);
    const pacer = connectPacer(env);
    const pace = { intervalMs: 20, burst: 50, maxWaitMs: 10_000, maxPerGroup: 100 };
    // Reads the pacer let go that never end, as a herd's first dials still being read.
    let held = 0;
    try {
      for (; held < 200; held++) {
        const read = await pacer.paceDial({ ...pace, holder: crypto.randomUUID(), reads: { max: 50, ms: 60_000 } });
        if (read !== undefined) break;
      }
      // Refused once the burst's 50 places were taken (fewer if an earlier dial's read had not ended yet).
      expect(held).toBeGreaterThan(0);
      expect(held).toBeLessThanOrEqual(50);
      const refused = await dialWith(enrolled.token);
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get("Retry-After"))).toBeGreaterThan(0);
      expect(reads).toHaveLength(0);
      // A read that failed frees its place: this dial is read and let in.
      await pacer.tokenReadFailed();
      held -= 1;
      const agent = await connectAgent(enrolled);
      expect(reads).toHaveLength(1);
      agent.socket.close(1000, "done");
    } finally {
      stop();
      for (; held > 0; held--) await pacer.tokenReadFailed();
    }
  });

  it("refuses a hello once its host was deleted after the token was read", async () => {
    const enrolled = await enrolledHost();
    const agent = await dial(enrolled.token);
    await env.DB.prepare("DELETE FROM hosts WHERE id = ?").bind(enrolled.host.id).run();
    agent.socket.send(hello(enrolled.host.id));
    expect((await agent.closed).code).toBe(CLOSE_CODES.TOKEN_REVOKED);
    expect(agent.frames.some((frame) => (frame as { type?: string }).type === "welcome")).toBe(false);
  });
});
