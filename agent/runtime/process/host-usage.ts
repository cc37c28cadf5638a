import type { CpuInfo } from "node:os";

/**
 * The math of the `system_stats` event, on plain numbers so it can be tested without a
 * busy machine. Percentages are of the whole host, rounded to two decimals.
 */

export interface CpuTimes {
  idle: number;
  total: number;
}

/** Summed over every core: os.cpus() counts milliseconds since boot per core and mode. */
export function cpuTimes(cpus: Pick<CpuInfo, "times">[]): CpuTimes {
  let idle = 0;
  let total = 0;
  for (const { times } of cpus) {
    idle += times.idle;
    total += times.user + times.nice + times.sys + times.idle + times.irq;
  }
  return { idle, total };
}

/**
 * Busy share of the time between two samples, 0–100 for the whole host (not per core).
 * The counters only grow; a zero or negative span (same sample, or a core going offline
 * between samples) reads as 0 rather than a nonsense number.
 */
export function cpuPercent(before: CpuTimes, after: CpuTimes): number {
  const total = after.total - before.total;
  const idle = after.idle - before.idle;
  if (total <= 0) return 0;
  return round2(clamp(((total - idle) / total) * 100));
}

/** os.freemem() is MemAvailable on Linux, so page cache the kernel can drop counts as free. */
export function memoryPercent(totalBytes: number, freeBytes: number): number {
  if (totalBytes <= 0) return 0;
  return round2(clamp(((totalBytes - freeBytes) / totalBytes) * 100));
}

/**
 * As `df` computes Use%: used / (used + available to unprivileged users), so the blocks
 * reserved for root count as neither and a "full" disk reads 100.
 */
export function diskPercent(stats: { blocks: number; bfree: number; bavail: number }): number {
  const used = stats.blocks - stats.bfree;
  const usable = used + stats.bavail;
  if (usable <= 0) return 0;
  return round2(clamp((used / usable) * 100));
}

function clamp(value: number): number {
  return Math.min(100, Math.max(0, value));
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
