import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import type { CpuWindow } from "./cpu-meter";
import type { Timed } from "./http-load";
import { percentile, round } from "./stats";

/**
 * One window of relay samples and what it cost beyond the times it took, so "1 connected" and
 * "1,000 connected" can be told apart by cause: the workerd CPU per request (what the edge
 * paid), what other processes on the shared machine took meanwhile, and how busy the sampler's
 * own event loop was (the probe agent and the HTTP client run in a process of their own,
 * relay-sampler.ts, but a late callback there still delays a ping without the edge being slower).
 */
export interface RelayWindow extends SamplerWindow {
  cpu: CpuWindow;
  /** CPU per process group over a few seconds with no requests just before the window: the edge's upkeep of its agents. */
  rest: CpuWindow;
  /** Requests made in the window, the warm-up's included (the CPU was spent on them too). */
  requests: number;
}

/** What the sampler's process measures of a window itself (relay-sampler.ts). */
export interface SamplerWindow {
  /** Samples by endpoint name, after the warm-up. */
  samples: Record<string, Sent[]>;
  /** Share of the window the sampler's event loop was busy, 0..1. */
  loopBusy: number;
  /** How late the sampler's timers ran, ms: p99, and the longest stall (a garbage collection, say). */
  loopLateP99: number;
  loopLateMax: number;
  /** Stalls of the sampler's event loop of STALL_MS or more: when each began and ended (its performance.now()). */
  stalls: { from: number; to: number }[];
  /** The probe agent's own time per ping, from its handler being called to the answer handed to its socket. */
  probeHandlingMs: number[];
}

/** A request of the window, with when it was sent (performance.now()), to be matched against the stalls. */
export interface Sent extends Timed {
  sentAt: number;
}

/** A stall of this process this long or longer is recorded with its time. */
const STALL_MS = 10;
/** How often the stall watch ticks. */
const WATCH_TICK_MS = 2;

/**
 * Records when this process's event loop stalled: a tick that comes STALL_MS or more late.
 * Returns the stop function.
 */
function watchStalls(): () => { from: number; to: number }[] {
  const stalls: { from: number; to: number }[] = [];
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    if (now - last - WATCH_TICK_MS >= STALL_MS) stalls.push({ from: last + WATCH_TICK_MS, to: now });
    last = now;
  }, WATCH_TICK_MS);
  return () => {
    clearInterval(timer);
    return stalls;
  };
}

/** Runs `work` and measures how this process's event loop fared meanwhile (the sampler's side of a window). */
export async function watchedLoop(
  work: () => Promise<Record<string, Sent[]>>,
): Promise<Omit<SamplerWindow, "probeHandlingMs">> {
  // 1 ms, the finest resolution: a coarser one hides delays of a few ms.
  const delay = monitorEventLoopDelay({ resolution: 1 });
  const usage = performance.eventLoopUtilization();
  delay.enable();
  const stopWatch = watchStalls();
  const samples = await work();
  const stalls = stopWatch();
  delay.disable();
  return {
    samples,
    loopBusy: performance.eventLoopUtilization(usage).utilization,
    // The histogram records each timer interval whole: what exceeds the 1 ms resolution is lateness.
    loopLateP99: Math.max(0, delay.percentile(99) / 1e6 - 1),
    loopLateMax: Math.max(0, delay.max / 1e6 - 1),
    stalls,
  };
}

/** The samples of endpoint `name` over all `windows`. */
export const samplesOf = (windows: RelayWindow[], name: string): Timed[] =>
  windows.flatMap((window) => window.samples[name] ?? []);

/**
 * Each window's ping p50 (and p99) with what it cost per request, for a figure's note: when two windows
 * of one side differ, the machine (other processes' CPU) or the edge (workerd's) says why.
 */
export function describeWindows(windows: RelayWindow[]): string {
  return windows
    .map((window) => {
      const ok = (window.samples.ping ?? []).filter((sample) => sample.ok);
      const pings = ok.map((sample) => sample.ms);
      // A slow ping that overlapped a stall of this process may have waited on the bench, not the edge.
      const slow = ok.filter((sample) => sample.ms > 2 * percentile(pings, 0.5));
      const stalled = slow.filter((sample) =>
        window.stalls.some((stall) => stall.from < sample.sentAt + sample.ms && stall.to > sample.sentAt),
      );
      const perRequest = (group: string) => round((window.cpu.groups[group] ?? 0) / Math.max(1, window.requests), 2);
      // The Worker's workerd alone: every socket and request goes to it, none through the dev proxy.
      const atRest = round(((window.rest.groups.workerd ?? 0) / window.rest.elapsedMs) * 1000);
      return (
        `${round(percentile(pings, 0.5), 2)} ms (p99 ${round(percentile(pings, 0.99), 1)} ms; per request ${perRequest("workerd")} ms of workerd CPU, ` +
        `${perRequest("foreign")} ms of other processes'; at rest just before, the Worker's workerd ` +
        `${atRest} ms of CPU a second; the sampler's event loop ${Math.round(window.loopBusy * 100)}% ` +
        `busy, its timers late by ${round(window.loopLateP99, 1)} ms at p99 and ${round(window.loopLateMax)} ms at most, ` +
        `${window.stalls.length} stalls of ${STALL_MS} ms or more; ${slow.length} pings took over twice the p50, ` +
        `${stalled.length} of them during such a stall; the probe agent's own handling ` +
        `${round(percentile(window.probeHandlingMs, 0.5), 2)} ms p50)`
      );
    })
    .join(", then ");
}
