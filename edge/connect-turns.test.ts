import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ConnectTurns, type TurnDecision, type TurnOptions } from "./connect-turns";

/**
 * ConnectTurns on a clock the test moves: `t` is what the object reads as now, and its timers
 * are vitest's fake ones, fired only by `advance`. `jump` moves the clock without firing them,
 * as when a call arrives just before a due timer runs.
 */
let t = 0;
let turns: ConnectTurns;
beforeEach(() => {
  vi.useFakeTimers();
  t = 1_000_000;
  turns = new ConnectTurns(() => t);
});
afterEach(() => {
  vi.useRealTimers();
});
const jump = (ms: number) => {
  t += ms;
};
const advance = (ms: number) => {
  t += ms;
  vi.advanceTimersByTime(ms);
};

/** A pending answer whose state the test can read without awaiting it. */
function watch(answer: Promise<TurnDecision>) {
  const seen: { decision?: TurnDecision } = {};
  void answer.then((decision) => {
    seen.decision = decision;
  });
  return seen;
}
/** Lets answered promises run their callbacks. */
const settle = () => vi.advanceTimersByTimeAsync(0);

const leaseOf = (decision: TurnDecision | undefined): string => {
  if (!decision?.admitted) throw new Error(`expected an admitted turn, got ${JSON.stringify(decision)}`);
  return decision.lease;
};

describe("ConnectTurns at the pace alone", () => {
  const paced = { intervalMs: 1000, burst: 1, maxWaitMs: 10_000, maxPerGroup: 100 };

  it("hands out turns one interval apart after the burst", async () => {
    const waits = [];
    for (const holder of ["a", "b", "c", "d"]) waits.push(await turns.take({ ...paced, holder, group: "u" }));
    expect(waits.map((turn) => (turn.admitted ? turn.waitMs : -1))).toEqual([0, 1000, 2000, 3000]);
  });

  it("lets a holder that dials again share its turn instead of taking another", async () => {
    await turns.take({ ...paced, holder: "first", group: "u" });
    const turn = await turns.take({ ...paced, holder: "looping", group: "u" });
    const again = await turns.take({ ...paced, holder: "looping", group: "u" });
    const next = await turns.take({ ...paced, holder: "other", group: "v" });
    expect([turn, again, next].map((one) => (one.admitted ? one.waitMs : -1))).toEqual([1000, 1000, 2000]);
    expect(leaseOf(again)).toBe(leaseOf(turn));
  });

  it("refuses callers whose turn is too far off, telling each a different time to come back", async () => {
    const decisions = [];
    for (let n = 0; n < 6; n++)
      decisions.push(await turns.take({ ...paced, maxWaitMs: 2500, holder: `h${n}`, group: `u${n}` }));
    expect(decisions.map((turn) => turn.admitted)).toEqual([true, true, true, false, false, false]);
    // Retries start half a wait before the turn would have come, then one turn apart.
    expect(decisions.flatMap((turn) => (turn.admitted ? [] : [turn.retryAfterMs]))).toEqual([1750, 2750, 3750]);
  });

  it("tells a refused holder that asks again the same time, without pushing the others back", async () => {
    const tight = { ...paced, maxWaitMs: 1500, group: "u" };
    for (const holder of ["a", "b"]) await turns.take({ ...tight, holder });
    const first = await turns.take({ ...tight, holder: "looping" });
    for (let n = 0; n < 20; n++) await turns.take({ ...tight, holder: "looping" });
    const again = await turns.take({ ...tight, holder: "looping" });
    const patient = await turns.take({ ...tight, holder: "patient" });
    expect([first, again, patient]).toEqual([
      { admitted: false, retryAfterMs: 1250 },
      { admitted: false, retryAfterMs: 1250 },
      { admitted: false, retryAfterMs: 2250 },
    ]);
  });
});

describe("ConnectTurns admitted by completions", () => {
  const leased: Omit<TurnOptions, "holder" | "group"> = {
    intervalMs: 20,
    burst: 10,
    maxWaitMs: 10_000,
    maxPerGroup: 100,
    inFlight: 10,
    leaseMs: 60_000,
  };

  it("holds the next turn until one in flight is released, and hands it out in order", async () => {
    const one = { ...leased, inFlight: 1 };
    const first = await turns.take({ ...one, holder: "h0", group: "u0" });
    const h1 = watch(turns.take({ ...one, holder: "h1", group: "u1" }));
    const h2 = watch(turns.take({ ...one, holder: "h2", group: "u2" }));
    await settle();
    expect([h1.decision, h2.decision]).toEqual([undefined, undefined]);
    turns.release(leaseOf(first));
    await settle();
    expect(h1.decision?.admitted).toBe(true);
    expect(h2.decision).toBeUndefined();
    turns.release(leaseOf(h1.decision));
    await settle();
    expect(h2.decision?.admitted).toBe(true);
  });

  it("lets other groups pass a group holding its share in flight, whose queued caller keeps its place", async () => {
    const shared = { ...leased, inFlight: 3 };
    const mine = [];
    for (const holder of ["m0", "m1", "m2"]) mine.push(await turns.take({ ...shared, holder, group: "greedy" }));
    expect(mine.map((turn) => turn.admitted)).toEqual([true, true, true]);
    // Their turns started; none said hello, so none was released. Another group's caller and a
    // fourth of theirs wait, and the lease freed next goes to the other group, under its share.
    const m3 = watch(turns.take({ ...shared, holder: "m3", group: "greedy" }));
    const theirs = watch(turns.take({ ...shared, holder: "theirs", group: "other" }));
    turns.release(leaseOf(mine[0]));
    await settle();
    expect(m3.decision).toBeUndefined();
    expect(theirs.decision?.admitted).toBe(true);
    turns.release(leaseOf(mine[1]));
    await settle();
    expect(m3.decision?.admitted).toBe(true);
  });

  it("gives a group connecting alone every free lease at once", async () => {
    const shared = { ...leased, inFlight: 4 };
    const alone = [];
    for (const holder of ["a0", "a1", "a2", "a3"]) alone.push(await turns.take({ ...shared, holder, group: "alone" }));
    expect(alone.map((turn) => turn.admitted)).toEqual([true, true, true, true]);
    const a4 = watch(turns.take({ ...shared, holder: "a4", group: "alone" }));
    await settle();
    expect(a4.decision).toBeUndefined();
    turns.release(leaseOf(alone[0]));
    await settle();
    expect(a4.decision?.admitted).toBe(true);
  });

  it("hands the leases two groups hold to a third group first, so they cannot lock it out", async () => {
    const shared = { ...leased, inFlight: 4 };
    const held = [];
    for (const [holder, group] of [
      ["a0", "a"],
      ["b0", "b"],
      ["a1", "a"],
      ["b1", "b"],
    ])
      held.push(await turns.take({ ...shared, holder: holder as string, group: group as string }));
    // Both go on dialling; a third group's caller queues behind them all.
    const again = ["a2", "b2", "a3", "b3"].map((holder) =>
      watch(turns.take({ ...shared, holder, group: holder[0] as string })),
    );
    const third = watch(turns.take({ ...shared, holder: "c0", group: "c" }));
    turns.release(leaseOf(held[0]));
    await settle();
    expect(third.decision?.admitted).toBe(true);
    expect(again.map((turn) => turn.decision)).toEqual([undefined, undefined, undefined, undefined]);
    // Then a's and b's queued callers in order, each under its share of a third again.
    turns.release(leaseOf(held[1]));
    await settle();
    expect(again.map((turn) => turn.decision?.admitted)).toEqual([true, undefined, undefined, undefined]);
  });

  it("refuses a holder dialling in a loop past a few callers waiting on its queued turn", async () => {
    const one = { ...leased, inFlight: 1 };
    await turns.take({ ...one, holder: "first", group: "u" });
    const waiting = [];
    // Its first dial and four more wait on one queued turn; the sixth is sent away.
    for (let n = 0; n < 5; n++) waiting.push(watch(turns.take({ ...one, holder: "looping", group: "v" })));
    const turned = await turns.take({ ...one, holder: "looping", group: "v" });
    expect(turned.admitted).toBe(false);
    await settle();
    expect(waiting.map((turn) => turn.decision)).toEqual([undefined, undefined, undefined, undefined, undefined]);
  });

  it("refuses a group's caller past its cap of turns, queued or in flight", async () => {
    const capped = { ...leased, maxPerGroup: 2 };
    for (const holder of ["c0", "c1"])
      expect((await turns.take({ ...capped, holder, group: "g" })).admitted).toBe(true);
    expect((await turns.take({ ...capped, holder: "c2", group: "g" })).admitted).toBe(false);
    expect((await turns.take({ ...capped, holder: "other", group: "h" })).admitted).toBe(true);
  });

  it("frees a turn whose lease expires unreleased, as when its Worker died mid-connect", async () => {
    const one = { ...leased, inFlight: 1, leaseMs: 100 };
    await turns.take({ ...one, holder: "lost", group: "u" });
    const next = watch(turns.take({ ...one, holder: "next", group: "v" }));
    advance(99);
    await settle();
    expect(next.decision).toBeUndefined();
    advance(1);
    await settle();
    expect(next.decision?.admitted).toBe(true);
  });

  it("keeps a renewed lease while its work is under way, once, so a stuck one still frees its turn", async () => {
    // A 15 s lease; the hello arrives near its 10 s deadline and its write is still running at 14 s.
    const one = { ...leased, inFlight: 1, leaseMs: 15_000, maxWaitMs: 60_000 };
    const hello = leaseOf(await turns.take({ ...one, holder: "late-hello", group: "u" }));
    const next = watch(turns.take({ ...one, holder: "next", group: "v" }));
    advance(14_000);
    turns.renew(hello, 15_000);
    // Past the lease's first end the write still holds it: no second connect is let in.
    advance(1_000);
    await settle();
    expect(next.decision).toBeUndefined();
    // A second renewal (the write is stuck) does not stretch it further: 15 s after the renewal it is gone.
    advance(13_000);
    turns.renew(hello, 15_000);
    advance(999);
    await settle();
    expect(next.decision).toBeUndefined();
    advance(1);
    await settle();
    expect(next.decision?.admitted).toBe(true);
  });

  it("ignores renewing a lease already released or expired", async () => {
    const one = { ...leased, inFlight: 1, leaseMs: 100 };
    const done = leaseOf(await turns.take({ ...one, holder: "done", group: "u" }));
    turns.release(done);
    turns.renew(done, 60_000);
    const next = leaseOf(await turns.take({ ...one, holder: "next", group: "v" }));
    advance(100);
    turns.renew(next, 60_000);
    expect((await turns.take({ ...one, holder: "after", group: "w" })).admitted).toBe(true);
  });

  it("gives a turn freed by an expiry to the queue's head when a call beats the expiry's timer", async () => {
    const one = { ...leased, inFlight: 1, leaseMs: 1000 };
    await turns.take({ ...one, holder: "lost", group: "u" });
    const head = watch(turns.take({ ...one, holder: "head", group: "v" }));
    jump(1000);
    const later = watch(turns.take({ ...one, holder: "later", group: "w" }));
    await settle();
    expect(head.decision?.admitted).toBe(true);
    expect(later.decision).toBeUndefined();
  });

  it("refuses a queued caller still waiting after maxWaitMs, and tells it when to come back", async () => {
    const stuck = { ...leased, inFlight: 1, maxWaitMs: 200 };
    await turns.take({ ...stuck, holder: "a", group: "u" });
    const waited = watch(turns.take({ ...stuck, holder: "b", group: "v" }));
    advance(199);
    await settle();
    expect(waited.decision).toBeUndefined();
    advance(1);
    await settle();
    expect(waited.decision).toEqual({ admitted: false, retryAfterMs: 20 });
  });

  it("sends a queue that waited its longest back first, in the order it queued, not behind those refused on arrival", async () => {
    const stuck = { ...leased, burst: 1, inFlight: 1, maxWaitMs: 200, maxPerGroup: 1 };
    await turns.take({ ...stuck, holder: "a", group: "a" });
    const queued = ["b", "c", "d"].map((holder) => watch(turns.take({ ...stuck, holder, group: holder })));
    // Twenty more of b's user are refused on arrival (its one turn is queued): told to come back 20 ms apart.
    const arrivals: TurnDecision[] = [];
    for (let index = 0; index < 20; index += 1) {
      arrivals.push(await turns.take({ ...stuck, holder: `b${index}`, group: "b" }));
    }
    expect(arrivals.map((decision) => (decision.admitted ? 0 : decision.retryAfterMs)).at(-1)).toBe(400);
    advance(200);
    await settle();
    // a still holds the one lease: b, c and d time out together and come back first, one turn apart.
    expect(queued.map((seen) => seen.decision)).toEqual(
      [20, 40, 60].map((retryAfterMs) => ({ admitted: false, retryAfterMs })),
    );
  });

  it("refuses up front those whose place in the queue is further off than maxWaitMs at the pace", async () => {
    const slow = { ...leased, intervalMs: 10_000, burst: 1, inFlight: 1, maxWaitMs: 25_000 };
    await turns.take({ ...slow, holder: "h0", group: "u0" });
    watch(turns.take({ ...slow, holder: "h1", group: "u1" }));
    watch(turns.take({ ...slow, holder: "h2", group: "u2" }));
    // Two turns 10 s and 20 s off are queued; a third, 30 s off, is refused without waiting.
    expect((await turns.take({ ...slow, holder: "h3", group: "u3" })).admitted).toBe(false);
  });

  /**
   * A user's first host takes a turn and its next two are refused (one turn per user): how far
   * apart the two are told to come back. Returns the first's turn too, to release.
   */
  const spacingOfTwoRefused = async (options: Omit<TurnOptions, "holder" | "group">, group: string) => {
    const first = await turns.take({ ...options, holder: `${group}-first`, group });
    const a = await turns.take({ ...options, holder: `${group}-a`, group });
    const b = await turns.take({ ...options, holder: `${group}-b`, group });
    if (a.admitted || b.admitted) throw new Error("expected two refusals");
    return { spacing: b.retryAfterMs - a.retryAfterMs, first };
  };
  /** One connect after another, each holding its turn `heldMs`. */
  const connectInTurn = async (options: Omit<TurnOptions, "holder" | "group">, count: number, heldMs: number) => {
    for (let index = 0; index < count; index += 1) {
      const turn = await turns.take({ ...options, holder: `r${index}`, group: `r${index}` });
      jump(heldMs);
      turns.release(leaseOf(turn));
    }
  };

  /** `count` turns taken at the same moment, each by a holder of its own group. */
  const takeAtOnce = async (options: Omit<TurnOptions, "holder" | "group">, count: number) => {
    const held: TurnDecision[] = [];
    for (let index = 0; index < count; index += 1) {
      held.push(await turns.take({ ...options, holder: `b${index}`, group: `b${index}` }));
    }
    return held;
  };

  it("spaces the refused at the pace until releases tell how fast the edge completes, then at that rate", async () => {
    const one = { ...leased, burst: 1, inFlight: 1, maxPerGroup: 1 };
    // No release yet (an edge just restarted): the pace.
    const early = await spacingOfTwoRefused(one, "early");
    expect(early.spacing).toBe(20);
    jump(250);
    turns.release(leaseOf(early.first));
    // Twenty connects in five seconds (that first one and 19 more), each 250 ms: the refused come back that far apart.
    await connectInTurn(one, 19, 250);
    expect((await spacingOfTwoRefused(one, "late")).spacing).toBe(250);
  });

  it("takes the rate from how long released leases were held, not from a window a fresh edge has not lived", async () => {
    const one = { ...leased, burst: 1, inFlight: 1, maxPerGroup: 1 };
    // An edge just started completes a connect every 100 ms: ten within its first second.
    await connectInTurn(one, 10, 100);
    // 100 ms apart (the rate it completes at), not 500 (five seconds' window over ten releases).
    expect((await spacingOfTwoRefused(one, "u")).spacing).toBe(100);
  });

  it("spaces the refused by what the leases in flight allow, not by the few released yet, at a fleet's start", async () => {
    const fleet = { ...leased, burst: 50, inFlight: 50, maxPerGroup: 1 };
    // Fifty turns at once; two seconds later only the first ten are released (a fleet's start).
    const held = await takeAtOnce(fleet, 50);
    jump(2_000);
    for (const turn of held.slice(0, 10)) turns.release(leaseOf(turn));
    // Fifty leases held 2 s each start one turn per 40 ms; ten releases over those 2 s said 200.
    expect((await spacingOfTwoRefused(fleet, "u")).spacing).toBe(40);
  });

  it("counts the time a burst's leases were held, so a burst released together does not look instant", async () => {
    const burst = { ...leased, burst: 10, inFlight: 10, maxPerGroup: 1 };
    // Ten turns at once, all released 2 s later within a few milliseconds: one connect per 200 ms.
    const held = await takeAtOnce(burst, 10);
    jump(2_000);
    for (const turn of held) turns.release(leaseOf(turn));
    // The 200 ms each took, not the pace (the releases themselves spanned no time).
    expect((await spacingOfTwoRefused(burst, "u")).spacing).toBe(200);
  });
});

describe("ConnectTurns: reads of tokens not seen checked", () => {
  const reads = { intervalMs: 100, burst: 2, maxWaitMs: 10_000, max: 2, ms: 5_000 };
  const checked = { intervalMs: 100, burst: 1, maxWaitMs: 10_000, maxPerGroup: 100, inFlight: 1, leaseMs: 60_000 };

  it("lets `max` reads go at once and refuses the next, to come back within half the longest wait", () => {
    const spread = new ConnectTurns(
      () => t,
      () => 0.5,
    );
    expect(spread.read(reads)).toBeUndefined();
    expect(spread.read(reads)).toBeUndefined();
    // An empty queue: back after one interval, plus the random part of half the longest wait.
    expect(spread.read(reads)).toEqual({ admitted: false, retryAfterMs: 100 + 0.5 * 5_000 });
  });

  it("frees a read's place when it is checked, or when it failed, and after `ms` when neither was said", () => {
    expect(turns.read(reads)).toBeUndefined();
    expect(turns.read(reads)).toBeUndefined();
    expect(turns.read(reads)?.admitted).toBe(false);
    turns.readDone();
    expect(turns.read(reads)).toBeUndefined();
    expect(turns.read(reads)?.admitted).toBe(false);
    jump(4_999);
    expect(turns.read(reads)?.admitted).toBe(false);
    jump(1);
    // Both reads under way stopped counting at once (the one checked above was not one of them).
    expect(turns.read(reads)).toBeUndefined();
    expect(turns.read(reads)).toBeUndefined();
    expect(turns.read(reads)?.admitted).toBe(false);
  });

  it("sends a refused read past the queue the pace has, and moves no checked caller's retry time", async () => {
    const lone = new ConnectTurns(
      () => t,
      () => 0,
    );
    const tight = { ...checked, maxWaitMs: 1_000 };
    // One started, ten queued (one interval apart: the queue's last starts about 1 s from now).
    leaseOf(await lone.take({ ...tight, holder: "first", group: "u" }));
    for (let index = 0; index < 10; index++) void lone.take({ ...tight, holder: `queued-${index}`, group: "u" });
    const refusedBefore = await lone.take({ ...tight, holder: "late", group: "u" });
    expect(refusedBefore.admitted).toBe(false);
    const unchecked = { ...reads, burst: 1, maxWaitMs: 1_000 };
    for (let index = 0; index < reads.max; index++) lone.read(unchecked);
    const unread = lone.read(unchecked);
    // The twelfth place starts 11 intervals from now: back once it is within half the longest wait.
    expect(unread).toEqual({ admitted: false, retryAfterMs: 1_100 - 500 });
    const refusedAfter = await lone.take({ ...tight, holder: "later", group: "u" });
    if (refusedBefore.admitted || refusedAfter.admitted) throw new Error("expected refusals");
    // One turn after `late`, as if no read had been refused in between.
    expect(refusedAfter.retryAfterMs - refusedBefore.retryAfterMs).toBe(checked.intervalMs);
  });
});
