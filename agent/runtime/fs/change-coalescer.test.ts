import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ChangeCoalescer, type ChangeType, mergeChange, settleChange } from "./change-coalescer";

function burst(...events: ChangeType[]): ChangeType | null {
  let pending: ReturnType<typeof mergeChange> | undefined;
  for (const event of events) pending = mergeChange(pending, event);
  if (!pending) throw new Error("empty burst");
  return settleChange(pending);
}

describe("mergeChange / settleChange", () => {
  it.each<[ChangeType[], ChangeType | null]>([
    [["created"], "created"],
    [["modified"], "modified"],
    [["deleted"], "deleted"],
    [["created", "modified", "modified"], "created"],
    [["created", "deleted"], null],
    [["created", "deleted", "created"], "created"],
    [["deleted", "created"], "modified"],
    [["modified", "deleted"], "deleted"],
    [["modified", "deleted", "created", "modified"], "modified"],
  ])("%j → %s", (events, expected) => {
    expect(burst(...events)).toBe(expected);
  });
});

describe("ChangeCoalescer", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  function coalescer() {
    const flushed: Array<[string, ChangeType]> = [];
    const instance = new ChangeCoalescer({
      delayMs: 100,
      maxWaitMs: 1_000,
      flush: (path, type) => flushed.push([path, type]),
    });
    return { instance, flushed };
  }

  it("reports a path once, delayMs after its last event, and paths independently", () => {
    const { instance, flushed } = coalescer();
    instance.push("a.txt", "created");
    vi.advanceTimersByTime(60);
    instance.push("a.txt", "modified");
    instance.push("b.txt", "modified");
    vi.advanceTimersByTime(99);
    expect(flushed).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(flushed).toEqual([
      ["a.txt", "created"],
      ["b.txt", "modified"],
    ]);
  });

  it("drops a path that came and went within the window", () => {
    const { instance, flushed } = coalescer();
    instance.push("tmp", "created");
    instance.push("tmp", "deleted");
    vi.advanceTimersByTime(500);
    expect(flushed).toEqual([]);
  });

  it("still reports a path written without pause, at most maxWaitMs after its first event", () => {
    const { instance, flushed } = coalescer();
    instance.push("log", "modified");
    for (let i = 0; i < 20; i++) {
      vi.advanceTimersByTime(60);
      instance.push("log", "modified");
    }
    expect(flushed).toEqual([["log", "modified"]]);
  });

  it("starts a new burst after a flush, and reports nothing after close", () => {
    const { instance, flushed } = coalescer();
    instance.push("f", "created");
    vi.advanceTimersByTime(100);
    instance.push("f", "deleted");
    vi.advanceTimersByTime(100);
    instance.push("f", "created");
    instance.close();
    vi.advanceTimersByTime(2_000);
    expect(flushed).toEqual([
      ["f", "created"],
      ["f", "deleted"],
    ]);
  });
});
