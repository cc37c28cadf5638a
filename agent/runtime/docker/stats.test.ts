import { describe, expect, it } from "vitest";
import {
  cpuPercent,
  dockerStatsFrame,
  memoryPercent,
  memoryUsageWithoutCache,
  toStatsSample,
  uptimeSeconds,
} from "./stats";

/** A frame from Docker 20.10 on cgroup v1 (this machine), trimmed of fields nobody reads. */
const CGROUP_V1 = {
  read: "2026-11-22T14:55:05.785724172Z",
  preread: "2026-11-22T14:55:04.781944249Z",
  pids_stats: { current: 1 },
  cpu_stats: {
    cpu_usage: {
      total_usage: 3_057_482_228,
      percpu_usage: [15_188_285, 3_042_293_943],
      usage_in_kernelmode: 0,
      usage_in_usermode: 3_040_000_000,
    },
    system_cpu_usage: 3_941_950_000_000,
    online_cpus: 2,
    throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
  },
  precpu_stats: {
    cpu_usage: {
      total_usage: 2_055_346_954,
      percpu_usage: [15_188_285, 2_040_158_669],
      usage_in_kernelmode: 0,
      usage_in_usermode: 2_040_000_000,
    },
    system_cpu_usage: 3_939_960_000_000,
    online_cpus: 2,
    throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
  },
  memory_stats: {
    usage: 104_857_600,
    max_usage: 110_000_000,
    stats: {
      active_anon: 4096,
      cache: 30_000_000,
      inactive_file: 1_000,
      total_inactive_file: 20_971_520,
      total_cache: 30_000_000,
      rss: 61_440,
    },
    limit: 1_073_741_824,
  },
  name: "/web",
  id: "2c2604f6100e423698abeb72256e51c9888cfe5ad5566d81d81f75a842137d53",
};

/** A frame from Docker 24 on cgroup v2: no percpu_usage, `inactive_file` without `total_`. */
const CGROUP_V2 = {
  read: "2025-05-05T10:30:00.123456789Z",
  preread: "2025-05-05T10:29:59.120000000Z",
  cpu_stats: {
    cpu_usage: { total_usage: 5_500_000_000, usage_in_kernelmode: 1_000_000_000, usage_in_usermode: 4_500_000_000 },
    system_cpu_usage: 200_004_000_000_000,
    online_cpus: 4,
    throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
  },
  precpu_stats: {
    cpu_usage: { total_usage: 5_000_000_000, usage_in_kernelmode: 900_000_000, usage_in_usermode: 4_100_000_000 },
    system_cpu_usage: 200_000_000_000_000,
    online_cpus: 4,
    throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
  },
  memory_stats: {
    usage: 536_870_912,
    stats: {
      anon: 400_000_000,
      file: 120_000_000,
      inactive_file: 100_000_000,
      active_file: 20_000_000,
      kernel_stack: 16_384,
      slab: 2_000_000,
    },
    limit: 2_147_483_648,
  },
};

const parse = (raw: unknown) => dockerStatsFrame.parse(raw);

describe("cpuPercent", () => {
  it("is cpu delta over system delta times online CPUs (cgroup v1)", () => {
    // (1_002_135_274 / 1_990_000_000) * 2 * 100
    expect(cpuPercent(parse(CGROUP_V1))).toBeCloseTo(100.717, 2);
  });

  it("works without percpu_usage (cgroup v2)", () => {
    // (500_000_000 / 4_000_000_000) * 4 * 100
    expect(cpuPercent(parse(CGROUP_V2))).toBeCloseTo(50, 5);
  });

  it("falls back to the percpu_usage length, then to one CPU, when online_cpus is missing", () => {
    const v1 = structuredClone(CGROUP_V1);
    Reflect.deleteProperty(v1.cpu_stats, "online_cpus");
    expect(cpuPercent(parse(v1))).toBeCloseTo(100.717, 2);
    const v2 = structuredClone(CGROUP_V2);
    Reflect.deleteProperty(v2.cpu_stats, "online_cpus");
    expect(cpuPercent(parse(v2))).toBeCloseTo(12.5, 5);
  });

  it("is 0 for the first frame of a stream, which has no previous reading", () => {
    const first = { ...CGROUP_V1, precpu_stats: { cpu_usage: { total_usage: 0 }, throttling_data: {} } };
    expect(cpuPercent(parse(first))).toBe(0);
    expect(toStatsSample(parse(first))).toMatchObject({ cpu: 0, complete: false });
  });

  it("is never negative (a counter reset after a restart)", () => {
    const reset = structuredClone(CGROUP_V2);
    reset.cpu_stats.cpu_usage.total_usage = 1_000;
    expect(cpuPercent(parse(reset))).toBe(0);
  });
});

describe("memory without cache", () => {
  it("subtracts total_inactive_file on cgroup v1", () => {
    expect(memoryUsageWithoutCache(parse(CGROUP_V1))).toBe(104_857_600 - 20_971_520);
    expect(memoryPercent(parse(CGROUP_V1))).toBeCloseTo(((104_857_600 - 20_971_520) / 1_073_741_824) * 100, 6);
  });

  it("subtracts inactive_file on cgroup v2", () => {
    expect(memoryUsageWithoutCache(parse(CGROUP_V2))).toBe(436_870_912);
    expect(memoryPercent(parse(CGROUP_V2))).toBeCloseTo(20.343, 2);
  });

  it("falls back to cache on old engines, and ignores a cache larger than the usage", () => {
    expect(
      memoryUsageWithoutCache(
        parse({ read: CGROUP_V1.read, memory_stats: { usage: 1000, limit: 4000, stats: { cache: 400 } } }),
      ),
    ).toBe(600);
    expect(
      memoryUsageWithoutCache(
        parse({
          read: CGROUP_V1.read,
          memory_stats: { usage: 1000, limit: 4000, stats: { total_inactive_file: 5000 } },
        }),
      ),
    ).toBe(1000);
    // A value that is not a number is skipped, not a reason to drop the frame.
    expect(
      memoryUsageWithoutCache(
        parse({
          read: CGROUP_V1.read,
          memory_stats: { usage: 1000, limit: 4000, stats: { total_inactive_file: "n/a", inactive_file: 100 } },
        }),
      ),
    ).toBe(900);
  });

  it("is 0 percent when the engine reports no limit", () => {
    expect(memoryPercent(parse({ read: CGROUP_V1.read, memory_stats: { usage: 1000 } }))).toBe(0);
  });
});

describe("toStatsSample", () => {
  it("rounds to two decimals and keeps the read time", () => {
    expect(toStatsSample(parse(CGROUP_V2))).toEqual({
      cpu: 50,
      memory: 20.34,
      memoryUsage: 436_870_912,
      memoryLimit: 2_147_483_648,
      read: CGROUP_V2.read,
      complete: true,
    });
  });

  it("is null for the zeroed frames of a stopped container", () => {
    const stopped = {
      read: "0001-01-01T00:00:00Z",
      preread: "0001-01-01T00:00:00Z",
      pids_stats: {},
      cpu_stats: {
        cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 },
        throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
      },
      precpu_stats: {
        cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 },
        throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
      },
      memory_stats: {},
    };
    expect(toStatsSample(parse(stopped))).toBeNull();
  });
});

describe("uptimeSeconds", () => {
  it("counts from StartedAt while running, 0 otherwise", () => {
    const now = Date.parse("2025-05-05T10:00:00Z");
    expect(uptimeSeconds({ Running: true, StartedAt: "2025-05-04T10:00:00.999999999Z" }, now)).toBe(86_399);
    expect(uptimeSeconds({ Running: false, StartedAt: "2025-05-04T10:00:00Z" }, now)).toBe(0);
    expect(uptimeSeconds({ Running: true, StartedAt: "0001-01-01T00:00:00Z" }, now)).toBe(0);
  });
});
