import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { connectPacer } from "../../edge/hosts/connect-pacer";
import { connectAgent, enrolledHost } from "./agent-socket";
import { BASE, expectEnvelopeError } from "./helpers";
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

  it("reads no token for a dial the pace refuses, and reads it once for a dial let in", async () => {
    const enrolled = await enrolledHost();
    const tokenHash = await tokenHashOf(enrolled.token);
    const reads: unknown[][] = [];
    const stop = watchStatements((_query, values) => {
      if (values.includes(tokenHash)) reads.push(values);
    });
    try {
      // Let in: its token is read once (and the pacer learns whose it is).
      const agent = await connectAgent(enrolled);
      expect(reads).toHaveLength(1);
      agent.socket.close(1000, "done");
      // The pacer tells this token's holder to come back later (here through its own API: a
      // caller whose group may hold no turn), as it tells a dial of a herd it has no room for.
      // It is known by then as the user's (learnt after its read, off the answer's path).
      const refuse = () =>
        connectPacer(env).paceDial({
          intervalMs: 5_000,
          burst: 1,
          maxWaitMs: 10_000,
          holder: tokenHash,
          maxPerGroup: 0,
        });
      await expect.poll(async () => (await refuse()).known).toBe(true);
      expect((await refuse()).admitted).toBe(false);
      const again = await dialWith(enrolled.token);
      expect(again.status).toBe(429);
      expect(Number(again.headers.get("Retry-After"))).toBeGreaterThan(0);
      expect(reads).toHaveLength(1);
    } finally {
      stop();
    }
  });

  it("answers a token that is no host's 401 after its turn, and one that is no agent token at once", async () => {
    const forged = `kai_agent_${crypto.randomUUID()}`;
    await expectEnvelopeError(await dialWith(forged), 401, "UNAUTHORIZED");
    await expectEnvelopeError(await dialWith("not-a-token"), 401, "UNAUTHORIZED");
    // Nobody's token is never learnt: its next dials stay with the unknown.
    const next = await connectPacer(env).paceDial({
      intervalMs: 1,
      burst: 1,
      maxWaitMs: 10_000,
      holder: await tokenHashOf(forged),
      maxPerGroup: 100,
    });
    expect(next.known).toBe(false);
  });
});
