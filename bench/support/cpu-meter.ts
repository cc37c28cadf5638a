import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { cpus } from "node:os";

/**
 * Where the CPU goes during a measurement window, from /proc: per process group (workerd
 * under this bench, the agent, dockerd, this load generator) and for the whole machine.
 * Lets a throughput figure say whether the machine was saturated and which side paid for
 * each request, instead of guessing. Linux only; elsewhere it reports nothing.
 */

const TICK_MS = 10; // USER_HZ is 100 on Linux

interface ProcInfo {
  pid: number;
  ppid: number;
  comm: string;
  cpuMs: number;
}

function readProc(pid: number, file = `/proc/${pid}/stat`): ProcInfo | undefined {
  try {
    const stat = readFileSync(file, "utf8");
    const close = stat.lastIndexOf(")");
    const comm = stat.slice(stat.indexOf("(") + 1, close);
    const fields = stat.slice(close + 2).split(" ");
    // After the command: state(0) ppid(1) … utime(11) stime(12).
    return { pid, ppid: Number(fields[1]), comm, cpuMs: (Number(fields[11]) + Number(fields[12])) * TICK_MS };
  } catch {
    return undefined;
  }
}

function allProcs(): ProcInfo[] {
  let entries: string[] = [];
  try {
    entries = readdirSync("/proc").filter((name) => /^\d+$/.test(name));
  } catch {
    return [];
  }
  return entries.map((name) => readProc(Number(name))).filter((info): info is ProcInfo => info !== undefined);
}

function descendants(procs: ProcInfo[], root: number): Set<number> {
  const found = new Set<number>([root]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const info of procs) {
      if (!found.has(info.ppid) || found.has(info.pid)) continue;
      found.add(info.pid);
      grew = true;
    }
  }
  return found;
}

function machineTicks(): { busy: number; total: number } {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
    const values = line.trim().split(/\s+/).slice(1).map(Number);
    const idle = (values[3] ?? 0) + (values[4] ?? 0);
    const total = values.reduce((sum, value) => sum + value, 0);
    return { busy: total - idle, total };
  } catch {
    return { busy: 0, total: 0 };
  }
}

/** Every process under `root` (not `root` itself), e.g. the agent processes a kai-agent started. */
export function descendantPids(root: number): number[] {
  return [...descendants(allProcs(), root)].filter((pid) => pid !== root);
}

/** The Worker's own workerd processes under this bench (its Durable Objects run there), not the dev proxy. */
export function workerPids(): number[] {
  const all = allProcs();
  const mine = descendants(all, process.pid);
  return all
    .filter((info) => mine.has(info.pid) && info.comm.startsWith("workerd") && workerdRole(info.pid) === "worker")
    .map((info) => info.pid);
}

type CpuGroups = Record<string, number>;

const roles = new Map<number, "worker" | "dev proxy">();

/**
 * wrangler's dev server runs two workerd processes: the Worker (with its Durable Objects) and
 * a proxy Worker in front of it. The proxy is a local-development artifact (production has
 * none), so it is counted apart. Both listen on port 0 here (as every bench asks), so their
 * command lines look alike; but the Worker holds its Durable Objects' storage folder open from
 * its start, and the proxy keeps no state.
 */
function workerdRole(pid: number): "worker" | "dev proxy" {
  let role = roles.get(pid);
  if (!role) {
    role = holdsDurableObjectStorage(pid) === false ? "dev proxy" : "worker";
    roles.set(pid, role);
  }
  return role;
}

/** Whether the process has a Durable Object storage folder (`<persist>/v3/do`) open; undefined when it is gone. */
function holdsDurableObjectStorage(pid: number): boolean | undefined {
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return undefined;
  }
  return fds.some((fd) => {
    try {
      return /\/v3\/do$/.test(readlinkSync(`/proc/${pid}/fd/${fd}`));
    } catch {
      return false;
    }
  });
}

/**
 * CPU milliseconds per group right now: workerd (the Worker and, apart, wrangler's dev
 * proxy) and the rest of this bench's own process tree ("load generator": this process,
 * which also drains the agents' logs), the agents, the Docker engine, kernel threads, and
 * everything else ("foreign": other work on a shared machine, which the figures cannot
 * control but should admit to).
 */
interface Sample {
  /** Per process: its group and CPU ms so far. */
  procs: Map<number, { group: string; cpuMs: number }>;
  mainThreads: Record<number, number>;
}

function sample(agentPids: number[]): Sample {
  const mainThreads: Record<number, number> = {};
  const all = allProcs();
  const mine = descendants(all, process.pid);
  const agents = new Set(agentPids);
  const procs: Sample["procs"] = new Map();
  for (const info of all) {
    let group = "foreign";
    if (agents.has(info.pid)) group = "agent";
    else if (mine.has(info.pid) && info.comm.startsWith("workerd") && workerdRole(info.pid) === "dev proxy")
      group = "dev proxy";
    else if (mine.has(info.pid) && info.comm.startsWith("workerd")) {
      group = "workerd";
      // workerd runs a Worker and its Durable Objects on its main thread: its ceiling.
      mainThreads[info.pid] = readProc(info.pid, `/proc/${info.pid}/task/${info.pid}/stat`)?.cpuMs ?? 0;
    } else if (mine.has(info.pid)) group = "load generator";
    else if (/^(dockerd|containerd)/.test(info.comm)) group = "docker";
    else if (info.pid === 2 || info.ppid === 2) group = "kernel";
    procs.set(info.pid, { group, cpuMs: info.cpuMs });
  }
  return { procs, mainThreads };
}

/**
 * CPU per group between two samples, process by process: one that started meanwhile counts
 * whole, one that exited meanwhile is lost (its last ticks cannot be read any more) and
 * lands in the machine's unexplained remainder rather than making a group negative.
 */
function spent(before: Sample, after: Sample): CpuGroups {
  const groups: CpuGroups = {
    workerd: 0,
    "dev proxy": 0,
    agent: 0,
    docker: 0,
    "load generator": 0,
    kernel: 0,
    foreign: 0,
  };
  for (const [pid, now] of after.procs) {
    const then = before.procs.get(pid)?.cpuMs ?? 0;
    groups[now.group] = (groups[now.group] ?? 0) + Math.max(0, now.cpuMs - then);
  }
  return groups;
}

export interface CpuWindow {
  /** CPU ms spent per group during the window. */
  groups: CpuGroups;
  elapsedMs: number;
  /** Busy share of all cores over the window, 0..1. */
  machineBusy: number;
  /** Busy share of the Worker's workerd main thread (its JavaScript and Durable Objects run there), 0..1. */
  workerdThreadBusy: number;
}

/** CPU spent between `start()` and `stop()`. */
export class CpuMeter {
  #before = sample([]);
  #ticks = machineTicks();
  #at = performance.now();

  constructor(private readonly agentPids: number[]) {}

  start(): void {
    this.#before = sample(this.agentPids);
    this.#ticks = machineTicks();
    this.#at = performance.now();
  }

  stop(): CpuWindow {
    const elapsed = performance.now() - this.#at;
    const after = sample(this.agentPids);
    const ticks = machineTicks();
    const groups = spent(this.#before, after);
    const total = ticks.total - this.#ticks.total;
    return {
      groups,
      elapsedMs: elapsed,
      machineBusy: total > 0 ? (ticks.busy - this.#ticks.busy) / total : 0,
      workerdThreadBusy: elapsed > 0 ? busiest(this.#before.mainThreads, after.mainThreads) / elapsed : 0,
    };
  }
}

/**
 * The share of the machine's capacity that processes outside the bench took over these
 * windows, and a clause saying so when it is large enough to matter (5% or more).
 */
export function foreignLoad(windows: CpuWindow[]): { share: number; clause: string } {
  const capacity = windows.reduce((sum, window) => sum + window.elapsedMs * cpus().length, 0);
  const foreign = windows.reduce((sum, window) => sum + (window.groups.foreign ?? 0), 0);
  const share = capacity > 0 ? foreign / capacity : 0;
  return {
    share,
    clause:
      share >= 0.05
        ? `; meanwhile other processes on this shared machine used ${Math.round(share * 100)}% of its CPU`
        : "",
  };
}

/** Measures CPU spent while `work` runs. */
export async function meterCpu<T>(agentPids: number[], work: () => Promise<T>): Promise<{ result: T; cpu: CpuWindow }> {
  const meter = new CpuMeter(agentPids);
  meter.start();
  const result = await work();
  return { result, cpu: meter.stop() };
}

function busiest(before: Record<number, number>, after: Record<number, number>): number {
  return Math.max(0, ...Object.entries(after).map(([pid, ms]) => ms - (before[Number(pid)] ?? ms)));
}
