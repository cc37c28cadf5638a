import { readFileSync } from "node:fs";
import { descendantPids, workerPids } from "./cpu-meter";

/**
 * The resident memory of one local edge's workerd processes, read from /proc. Several edges
 * may run under this bench at once (the fleet's and its bare baseline), so an edge's
 * processes are the workerd ones that appeared while it started (`trackWorkerd`).
 */

function comm(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return "";
  }
}

function workerdPids(): number[] {
  return descendantPids(process.pid).filter((pid) => comm(pid).startsWith("workerd"));
}

/** Runs `start` and returns what it returned with the workerd processes that appeared meanwhile. */
export async function trackWorkerd<T>(start: () => Promise<T>): Promise<{ value: T; pids: number[] }> {
  const before = new Set(workerdPids());
  const value = await start();
  return { value, pids: workerdPids().filter((pid) => !before.has(pid)) };
}

export interface WorkerdRss {
  /** Every workerd process of the edge (the Worker and wrangler's dev proxy), bytes. */
  all: number;
  /** The Worker's own process, where its Durable Objects live (production has no dev proxy), bytes. */
  worker: number;
}

function rssBytes(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    return Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
}

export function workerdRss(pids: number[]): WorkerdRss {
  const workers = new Set(workerPids());
  return {
    all: pids.reduce((sum, pid) => sum + rssBytes(pid), 0),
    worker: pids.filter((pid) => workers.has(pid)).reduce((sum, pid) => sum + rssBytes(pid), 0),
  };
}
