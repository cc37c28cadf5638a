import { describe, expect, it } from "vitest";
import { Backoff } from "./backoff";

describe("reconnect backoff", () => {
  it("grows from about 100 ms to the 10 s cap and never exceeds it", () => {
    const low = new Backoff({ random: () => 0 });
    const high = new Backoff({ random: () => 1 });
    const lows = Array.from({ length: 12 }, () => low.next());
    const highs = Array.from({ length: 12 }, () => high.next());
    expect(lows[0]).toBe(50);
    expect(highs[0]).toBe(100);
    expect(Math.max(...highs)).toBe(10_000);
    expect(highs.at(-1)).toBe(10_000);
    expect(lows.at(-1)).toBe(5_000);
    for (let i = 1; i < highs.length; i++) expect(highs[i]).toBeGreaterThanOrEqual(highs[i - 1] ?? 0);
  });

  it("spreads agents out: delays at one step differ with the random draw", () => {
    const delays = new Set(Array.from({ length: 50 }, () => new Backoff().next()));
    expect(delays.size).toBeGreaterThan(10);
  });

  it("starts over after reset", () => {
    const backoff = new Backoff({ random: () => 1 });
    for (let i = 0; i < 8; i++) backoff.next();
    backoff.reset();
    expect(backoff.next()).toBe(100);
  });
});
