import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { descendantPids, workerPids } from "./cpu-meter";

/**
 * The resident memory of the local edge's workerd processes, read from /proc: every workerd
 * under this bench, so only one edge may run at a time (the fleet bench stops its bare
 * baseline before it starts Kai's). wrangler spawns the Worker's process lazily, so read
 * only once the edge has answered a request.
 */

function comm(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return "";
  }
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

export function workerdRss(): WorkerdRss {
  const pids = descendantPids(process.pid).filter((pid) => comm(pid).startsWith("workerd"));
  const workers = new Set(workerPids());
  return {
    all: pids.reduce((sum, pid) => sum + rssBytes(pid), 0),
    worker: pids.filter((pid) => workers.has(pid)).reduce((sum, pid) => sum + rssBytes(pid), 0),
  };
}

/**
 * Durable Objects of `className` awake right now in the edge's workerd: an object holds its
 * SQLite database open while it is in memory and closes it as it hibernates, so the open
 * database files count the awake objects (a hibernated one costs only its sockets).
 */
export function awakeObjects(className: string): number {
  const pids = descendantPids(process.pid).filter((pid) => comm(pid).startsWith("workerd"));
  const database = new RegExp(`/do/[^/]*-${className}/[0-9a-f]+\\.sqlite$`);
  let open = 0;
  for (const pid of pids) {
    let fds: string[] = [];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (database.test(readlinkSync(`/proc/${pid}/fd/${fd}`))) open += 1;
      } catch {
        // closed meanwhile
      }
    }
  }
  return open;
}
