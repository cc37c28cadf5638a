import { describe, expect, it } from "vitest";
import { cpuPercent, cpuTimes, diskPercent, memoryPercent } from "./host-usage";

const core = (user: number, sys: number, idle: number) => ({ times: { user, nice: 0, sys, idle, irq: 0 } });

describe("cpu", () => {
  it("sums every core and takes the busy share of the time between two samples", () => {
    const before = cpuTimes([core(100, 100, 800), core(0, 0, 1000)]);
    expect(before).toEqual({ idle: 1800, total: 2000 });
    // Core 0 fully busy for 100 ms, core 1 idle for 100 ms: half the host.
    const after = cpuTimes([core(150, 150, 800), core(0, 0, 1100)]);
    expect(cpuPercent(before, after)).toBe(50);
  });

  it("reads 0 for no elapsed time or counters that went backwards, and never above 100", () => {
    const sample = cpuTimes([core(1, 1, 1)]);
    expect(cpuPercent(sample, sample)).toBe(0);
    expect(cpuPercent(cpuTimes([core(10, 10, 10)]), sample)).toBe(0);
    expect(cpuPercent({ idle: 10, total: 10 }, { idle: 0, total: 20 })).toBe(100);
    expect(cpuTimes([])).toEqual({ idle: 0, total: 0 });
  });

  it("rounds to two decimals", () => {
    expect(cpuPercent({ idle: 0, total: 0 }, { idle: 2, total: 3 })).toBe(33.33);
  });
});

describe("memory and disk", () => {
  it("memory is the share not available", () => {
    expect(memoryPercent(8_000, 2_000)).toBe(75);
    expect(memoryPercent(0, 0)).toBe(0);
  });

  it("disk is df's Use%: reserved blocks count as neither used nor available", () => {
    // 1000 blocks, 100 free of which 50 are reserved for root: used 900 of 950 usable.
    expect(diskPercent({ blocks: 1000, bfree: 100, bavail: 50 })).toBe(94.74);
    expect(diskPercent({ blocks: 1000, bfree: 50, bavail: 0 })).toBe(100);
    expect(diskPercent({ blocks: 0, bfree: 0, bavail: 0 })).toBe(0);
  });
});
