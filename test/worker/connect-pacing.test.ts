import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";

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
