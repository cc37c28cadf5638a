import { describe, expect, it } from "vitest";
import { FrameBudget } from "./frame-budget";

/** Sockets are only keys here: any object stands for one. */
const socket = () => ({}) as WebSocket;

describe("FrameBudget", () => {
  const rate = { burst: 3, perSecond: 2, closeAfter: 4 };

  it("takes a burst at once, then refuses until time refills the bucket", () => {
    const budget = new FrameBudget(rate);
    const viewer = socket();
    expect([0, 0, 0, 0].map((at) => budget.spend(viewer, at))).toEqual(["accepted", "accepted", "accepted", "refused"]);
    // Two a second: one more after 500 ms, never more than the burst however long it waited.
    expect(budget.spend(viewer, 499)).toBe("refused");
    expect(budget.spend(viewer, 1000)).toBe("accepted");
    expect([60_000, 60_000, 60_000, 60_000].map((at) => budget.spend(viewer, at))).toEqual([
      "accepted",
      "accepted",
      "accepted",
      "refused",
    ]);
  });

  it("calls a socket abusive once it was refused closeAfter times in a row, and each socket has its own budget", () => {
    const budget = new FrameBudget(rate);
    const flooding = socket();
    const verdicts = Array.from({ length: 7 }, () => budget.spend(flooding, 0));
    expect(verdicts).toEqual(["accepted", "accepted", "accepted", "refused", "refused", "refused", "abusive"]);
    expect(budget.spend(socket(), 0)).toBe("accepted");
  });

  it("counts refusals in a row only: an accepted frame starts the count again", () => {
    const budget = new FrameBudget(rate);
    const viewer = socket();
    for (let frame = 0; frame < 6; frame++) budget.spend(viewer, 0);
    expect(budget.spend(viewer, 500)).toBe("accepted");
    expect([500, 500, 500].map((at) => budget.spend(viewer, at))).toEqual(["refused", "refused", "refused"]);
    expect(budget.spend(viewer, 500)).toBe("abusive");
  });
});
