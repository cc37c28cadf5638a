import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { whileSlow } from "./while-slow";

/**
 * On real timers, with work that really takes its time. The outcomes do not hang on how busy
 * the machine is: Node fires due timers in the order they are due and runs the promise
 * callbacks of each before the next, so work due before the threshold always settles (and
 * clears it) first, and a threshold due before the work always fires first.
 */
const THRESHOLD_MS = 50;

/** Work that settles after `ms`, and says whether it has yet. */
function work<T>(ms: number, outcome: () => T) {
  const state = { settled: false };
  const promise = sleep(ms).then(() => {
    state.settled = true;
    return outcome();
  });
  return { promise, state };
}

describe("whileSlow", () => {
  it("calls onSlow once, while slow work is still under way, and passes on what it returns", async () => {
    const write = work(6 * THRESHOLD_MS, () => "recorded");
    const calls: boolean[] = [];
    const result = await whileSlow(write.promise, THRESHOLD_MS, () => calls.push(write.state.settled));
    expect(result).toBe("recorded");
    expect(calls).toEqual([false]);
  });

  it("calls onSlow for slow work that fails, and passes the failure on", async () => {
    const write = work(6 * THRESHOLD_MS, () => {
      throw new Error("D1 went away");
    });
    const calls: boolean[] = [];
    await expect(whileSlow(write.promise, THRESHOLD_MS, () => calls.push(write.state.settled))).rejects.toThrow(
      "D1 went away",
    );
    expect(calls).toEqual([false]);
  });

  it("never calls onSlow for work done sooner, succeeded or failed, even once the threshold is long past", async () => {
    let calls = 0;
    const onSlow = () => {
      calls += 1;
    };
    expect(await whileSlow(work(THRESHOLD_MS / 5, () => "recorded").promise, THRESHOLD_MS, onSlow)).toBe("recorded");
    const failing = work(THRESHOLD_MS / 5, () => {
      throw new Error("constraint failed");
    });
    await expect(whileSlow(failing.promise, THRESHOLD_MS, onSlow)).rejects.toThrow("constraint failed");
    await sleep(4 * THRESHOLD_MS);
    expect(calls).toBe(0);
  });
});
