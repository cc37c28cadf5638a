import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";

/** A fresh pacing bucket on the real RateLimiter Durable Object. */
const pacer = () => env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(`pace-test-${crypto.randomUUID()}`));
const base = { intervalMs: 1000, burst: 1, maxWaitMs: 10_000, maxPerGroup: 100 };

describe("connect pacing (RateLimiter.pace)", () => {
  it("hands out turns one interval apart after the burst", async () => {
    const bucket = pacer();
    const waits = [];
    for (const holder of ["a", "b", "c", "d"]) waits.push(await bucket.pace({ ...base, holder, group: "u" }));
    expect(waits.map((turn) => turn.admitted)).toEqual([true, true, true, true]);
    const ms = waits.map((turn) => (turn.admitted ? turn.waitMs : Number.NaN));
    expect(ms[0]).toBe(0);
    for (const [index, wait] of ms.entries()) expect(Math.abs((wait ?? 0) - index * 1000)).toBeLessThan(200);
  });

  it("lets a holder that dials again share its turn instead of taking another", async () => {
    const bucket = pacer();
    await bucket.pace({ ...base, holder: "first", group: "u" });
    const turn = await bucket.pace({ ...base, holder: "looping", group: "u" });
    const again = await bucket.pace({ ...base, holder: "looping", group: "u" });
    const next = await bucket.pace({ ...base, holder: "other", group: "v" });
    expect(turn.admitted && again.admitted && next.admitted).toBe(true);
    if (!turn.admitted || !again.admitted || !next.admitted) return;
    expect(again.waitMs).toBeLessThanOrEqual(turn.waitMs);
    expect(next.waitMs - turn.waitMs).toBeGreaterThan(800);
  });

  it("caps the turns one group holds, so one user's hosts cannot crowd out another's", async () => {
    const bucket = pacer();
    const mine = [];
    for (const holder of ["h0", "h1", "h2", "h3"])
      mine.push(await bucket.pace({ ...base, maxPerGroup: 2, holder, group: "greedy" }));
    // h0 goes at once (it holds no pending turn), h1 and h2 wait, h3 is one turn too many.
    expect(mine.map((turn) => turn.admitted)).toEqual([true, true, true, false]);
    expect((await bucket.pace({ ...base, maxPerGroup: 2, holder: "theirs", group: "other" })).admitted).toBe(true);
  });

  it("refuses callers whose turn is too far off, telling each a different time to come back", async () => {
    const bucket = pacer();
    const decisions = [];
    for (let n = 0; n < 6; n++)
      decisions.push(await bucket.pace({ ...base, maxWaitMs: 2500, holder: `h${n}`, group: `u${n}` }));
    expect(decisions.map((turn) => turn.admitted)).toEqual([true, true, true, false, false, false]);
    const retries = decisions.flatMap((turn) => (turn.admitted ? [] : [turn.retryAfterMs]));
    for (let index = 1; index < retries.length; index++)
      expect((retries[index] ?? 0) - (retries[index - 1] ?? 0)).toBeGreaterThan(800);
    expect(retries[0]).toBeGreaterThanOrEqual(1000);
  });

  it("tells a refused holder that asks again the same time, without pushing the others back", async () => {
    const bucket = pacer();
    const tight = { ...base, maxWaitMs: 1500, group: "u" };
    for (const holder of ["a", "b"]) await bucket.pace({ ...tight, holder });
    // Each answer is relative to when the object decided it, somewhere inside the call: the
    // moment it names is known to within the call's own duration, however slow the machine.
    const timed = async (holder: string) => {
      const sent = Date.now();
      const turn = await bucket.pace({ ...tight, holder });
      if (turn.admitted) throw new Error(`${holder} was admitted; expected a refusal`);
      return { earliest: sent + turn.retryAfterMs, latest: Date.now() + turn.retryAfterMs };
    };
    const first = await timed("looping");
    for (let n = 0; n < 20; n++) await bucket.pace({ ...tight, holder: "looping" });
    const again = await timed("looping");
    const other = await timed("patient");
    // The same moment both times: the two windows overlap.
    expect(again.earliest).toBeLessThanOrEqual(first.latest);
    expect(first.earliest).toBeLessThanOrEqual(again.latest);
    // The patient one is not pushed back by the looping one: at most one more interval later.
    expect(other.earliest - first.latest).toBeLessThan(1200);
  });
});

describe("connect admission by completions (RateLimiter.pace with inFlight)", () => {
  const leased = { intervalMs: 1, burst: 1, maxWaitMs: 10_000, maxPerGroup: 100, inFlight: 1, leaseMs: 60_000 };

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

  it("lets a holder that dials again while its turn is in flight share it", async () => {
    const bucket = pacer();
    const turn = await bucket.pace({ ...leased, holder: "a", group: "u" });
    const again = await bucket.pace({ ...leased, holder: "a", group: "u" });
    expect(turn.admitted && again.admitted).toBe(true);
    if (turn.admitted && again.admitted) expect(again.lease).toBe(turn.lease);
  });

  it("frees a turn whose lease expires unreleased, as when its Worker died mid-connect", async () => {
    const bucket = pacer();
    const lost = await bucket.pace({ ...leased, leaseMs: 100, holder: "lost", group: "u" });
    expect(lost.admitted).toBe(true);
    const next = await bucket.pace({ ...leased, holder: "next", group: "v" });
    expect(next.admitted).toBe(true);
  });

  it("refuses a queued caller still waiting after maxWaitMs, and tells it when to come back", async () => {
    const bucket = pacer();
    const stuck = { ...leased, maxWaitMs: 200 };
    expect((await bucket.pace({ ...stuck, holder: "a", group: "u" })).admitted).toBe(true);
    const waited = await bucket.pace({ ...stuck, holder: "b", group: "v" });
    expect(waited.admitted).toBe(false);
    if (!waited.admitted) expect(waited.retryAfterMs).toBeGreaterThan(0);
  });

  it("refuses up front those whose place in the queue is further off than maxWaitMs at the pace", async () => {
    const bucket = pacer();
    const slow = { ...leased, intervalMs: 10_000, maxWaitMs: 25_000 };
    const first = await bucket.pace({ ...slow, holder: "h0", group: "u0" });
    const h1 = bucket.pace({ ...slow, holder: "h1", group: "u1" });
    const h2 = bucket.pace({ ...slow, holder: "h2", group: "u2" });
    // Two turns 10 s and 20 s off are queued; a third, 30 s off, is refused without waiting.
    const h3 = await bucket.pace({ ...slow, holder: "h3", group: "u3" });
    expect(h3.admitted).toBe(false);
    if (first.admitted) await bucket.release(first.lease);
    // Whichever of the queued two went first, releasing it lets the other go.
    const next = await Promise.race([h1, h2]);
    if (!next.admitted) throw new Error("a queued caller was refused");
    await bucket.release(next.lease);
    expect([(await h1).admitted, (await h2).admitted]).toEqual([true, true]);
  });
});
