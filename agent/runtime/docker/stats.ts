import { z } from "zod";

/**
 * The math of `docker stats`, on one frame of Docker's stats API: the same formulas as the
 * docker CLI, so the numbers match what an operator sees in a terminal.
 */

const cpuStats = z.object({
  cpu_usage: z
    .object({ total_usage: z.number().default(0), percpu_usage: z.array(z.number()).nullish() })
    .default({ total_usage: 0 }),
  system_cpu_usage: z.number().nullish(),
  online_cpus: z.number().nullish(),
});

/** The fields of a stats frame this module reads; everything else Docker sends is ignored. */
export const dockerStatsFrame = z.object({
  read: z.string(),
  cpu_stats: cpuStats.default({ cpu_usage: { total_usage: 0 } }),
  precpu_stats: cpuStats.default({ cpu_usage: { total_usage: 0 } }),
  memory_stats: z
    .object({
      usage: z.number().nullish(),
      limit: z.number().nullish(),
      // Read key by key: one odd value from some engine must not throw the frame away.
      stats: z.record(z.string(), z.unknown()).nullish(),
    })
    .default({}),
});
export type DockerStatsFrame = z.infer<typeof dockerStatsFrame>;

/** One container's resource use at one moment, ready for the API. */
export interface StatsSample {
  /** Percent of one CPU times the CPUs online (200 = two CPUs busy), as `docker stats`. */
  cpu: number;
  /** Percent of the memory limit, page cache excluded. */
  memory: number;
  memoryUsage: number;
  memoryLimit: number;
  /** When Docker read the sample (RFC 3339). */
  read: string;
  /**
   * False for the first frame of a stream, which has no previous CPU reading: its `cpu` is
   * 0 because there is nothing to take a delta against.
   */
  complete: boolean;
}

/**
 * (cpu delta / system delta) × online CPUs × 100. Online CPUs fall back to the length of
 * `percpu_usage` (cgroup v1 engines before 1.27 did not report them), then to 1.
 */
export function cpuPercent(frame: DockerStatsFrame): number {
  const cpuDelta = frame.cpu_stats.cpu_usage.total_usage - frame.precpu_stats.cpu_usage.total_usage;
  const systemDelta = (frame.cpu_stats.system_cpu_usage ?? 0) - (frame.precpu_stats.system_cpu_usage ?? 0);
  if (!hasPreviousCpu(frame) || systemDelta <= 0 || cpuDelta <= 0) return 0;
  const online = frame.cpu_stats.online_cpus || frame.cpu_stats.cpu_usage.percpu_usage?.length || 1;
  return (cpuDelta / systemDelta) * online * 100;
}

/**
 * Memory in use without the page cache the kernel can drop at will, as the docker CLI
 * counts it: cgroup v1 reports `total_inactive_file`, cgroup v2 `inactive_file`; engines
 * older than both only `cache`. A cache larger than the usage (seen on some kernels) is
 * ignored rather than giving a negative number.
 */
export function memoryUsageWithoutCache(frame: DockerStatsFrame): number {
  const usage = frame.memory_stats.usage ?? 0;
  const stats = frame.memory_stats.stats ?? {};
  const cache = numberOf(stats.total_inactive_file) ?? numberOf(stats.inactive_file) ?? numberOf(stats.cache) ?? 0;
  return cache < usage ? usage - cache : usage;
}

export function memoryPercent(frame: DockerStatsFrame): number {
  const limit = frame.memory_stats.limit ?? 0;
  return limit > 0 ? (memoryUsageWithoutCache(frame) / limit) * 100 : 0;
}

/**
 * The sample a frame describes, or null for the zeroed frames Docker keeps sending on the
 * stream of a container that is no longer running (its `read` is Go's zero time).
 */
export function toStatsSample(frame: DockerStatsFrame): StatsSample | null {
  const readAt = Date.parse(frame.read);
  if (Number.isNaN(readAt) || readAt <= 0) return null;
  return {
    cpu: round2(cpuPercent(frame)),
    memory: round2(memoryPercent(frame)),
    memoryUsage: Math.round(memoryUsageWithoutCache(frame)),
    memoryLimit: Math.round(frame.memory_stats.limit ?? 0),
    read: frame.read,
    complete: hasPreviousCpu(frame),
  };
}

/** The first frame of a stream carries no previous reading: Docker leaves precpu empty. */
function hasPreviousCpu(frame: DockerStatsFrame): boolean {
  return (frame.precpu_stats.system_cpu_usage ?? 0) > 0;
}

function numberOf(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

/** Seconds since the container last started; 0 when it is not running. */
export function uptimeSeconds(state: { Running: boolean; StartedAt: string }, now = Date.now()): number {
  if (!state.Running) return 0;
  const started = Date.parse(state.StartedAt);
  return Number.isNaN(started) || started <= 0 ? 0 : Math.max(0, Math.floor((now - started) / 1000));
}
