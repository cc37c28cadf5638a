import { describe, expect, it } from "vitest";
import { pairedRatio } from "../../bench/support/window-pairs";

const window = (values: number[]) => values;

describe("pairedRatio", () => {
  it("takes the median of each pair's own ratio, not the ratio of pooled samples", () => {
    // Pair 2's alone window fell in a quiet minute and its crowded one did not: pooled, its
    // slow samples would set the crowded side's p50 alone.
    const alone = [window([10, 10, 10]), window([10, 10, 10]), window([20, 20, 20])];
    const crowded = [window([11, 11, 11]), window([40, 40, 40]), window([22, 22, 22])];
    const result = pairedRatio(alone, crowded, 0.5);
    expect(result.ratios).toEqual([1.1, 4, 1.1]);
    expect(result.median).toBe(1.1);
    expect(result.min).toBe(1.1);
    expect(result.max).toBe(4);
    expect(result.alone).toEqual([10, 10, 20]);
    expect(result.crowded).toEqual([11, 40, 22]);
  });

  it("compares the quantile asked for", () => {
    const alone = [window([1, 2, 3, 4, 10])];
    const crowded = [window([1, 2, 3, 4, 30])];
    expect(pairedRatio(alone, crowded, 0.99).median).toBe(3);
    expect(pairedRatio(alone, crowded, 0.5).median).toBe(1);
  });

  it("refuses sides of different lengths rather than pairing windows that were not measured together", () => {
    expect(() => pairedRatio([window([1])], [window([1]), window([2])], 0.5)).toThrow(/as many windows/);
    expect(() => pairedRatio([], [], 0.5)).toThrow(/at least one/);
  });
});
