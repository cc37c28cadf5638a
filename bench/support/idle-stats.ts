import WebSocket from "ws";
import { userFeedFrame } from "../../shared/schemas/user-events";
import type { Figure } from "../run";
import { enrollFleet } from "./fleet-setup";
import type { KaiStack } from "./kai-stack";
import type { Scope } from "./scope";
import { median, round } from "./stats";
import { StatsAgents } from "./stats-agents";

/** One user's idle hosts, as in ARCHITECTURE's "At 100,000 hosts" (a user with 100). */
const HOSTS = 100;
/** kai-agent's default `--stats-interval`. */
const INTERVAL_MS = 5_000;
const WINDOW_MS = { full: 30_000, quick: 10_000 };
const SETTLE_MS = 120_000;
/** Each snapshot is one call into the host's object and one from it to the feed object. */
const CALLS_PER_SNAPSHOT = 2;

export interface IdleStats {
  hosts: number;
  windowMs: number;
  unwatchedSnapshots: number;
  watchedSnapshots: number;
  /** The first viewer's socket opened → a snapshot taken since from every host, ms. */
  firstViewerMs: number;
  /** While watched, the gap between a host's consecutive snapshots (the interval as delivered), ms. */
  watchedGapMs: number;
}

/**
 * 100 idle hosts of a new user, each reporting stats at the default interval: snapshots sent
 * over a window while nobody watches (after the edge switched them off), then the first
 * viewer's wait for a fresh snapshot of every host, then a window while it watches.
 */
export async function measureIdleStats(stack: KaiStack, scope: Scope, quick: boolean): Promise<IdleStats> {
  // The bench's connect pace suits its few real agents; 100 more would queue for half a minute.
  await stack.restartEdge(0, { AGENT_CONNECT_RATE_PER_SECOND: "200", AGENT_CONNECT_BURST: "200" });
  const [user] = await enrollFleet(stack.url, [HOSTS]);
  if (!user) throw new Error("no user enrolled");
  const agents = new StatsAgents(stack.url, user.hosts, INTERVAL_MS);
  scope.defer("idle stats agents", () => agents.stop());
  await until(() => agents.welcomed() === HOSTS && agents.sending() === 0, "every host connected and switched off");

  const windowMs = quick ? WINDOW_MS.quick : WINDOW_MS.full;
  const unwatchedFrom = performance.now();
  await sleep(windowMs);
  const unwatchedSnapshots = agents.sentBetween(unwatchedFrom, performance.now());

  const opened = performance.now();
  const openedAt = Date.now();
  const viewer = new WebSocket(`${stack.url.replace("http", "ws")}/api/v1/ws/events`, {
    headers: { authorization: `Bearer ${user.session.token}` },
  });
  scope.defer("idle stats viewer", () => viewer.close());
  let firstViewerMs: number | undefined;
  const fresh = new Map<string, number>();
  const gaps: number[] = [];
  viewer.on("message", (data) => {
    const frame = userFeedFrame.parse(JSON.parse(data.toString()));
    if (frame.type !== "host.stats" || Date.parse(frame.at) < openedAt) return;
    const last = fresh.get(frame.hostId);
    if (last !== undefined) gaps.push(performance.now() - last);
    fresh.set(frame.hostId, performance.now());
    if (fresh.size === HOSTS && firstViewerMs === undefined) firstViewerMs = performance.now() - opened;
  });
  await until(() => firstViewerMs !== undefined, "a fresh snapshot of every host on the first viewer");

  const watchedFrom = performance.now();
  await sleep(windowMs);
  const watchedSnapshots = agents.sentBetween(watchedFrom, performance.now());
  viewer.close();
  return {
    hosts: HOSTS,
    windowMs,
    unwatchedSnapshots,
    watchedSnapshots,
    firstViewerMs: firstViewerMs ?? Number.NaN,
    watchedGapMs: median(gaps),
  };
}

export function idleStatsFigures(idle: IdleStats): Figure[] {
  const perSecond = (snapshots: number) => (snapshots * CALLS_PER_SNAPSHOT * 1000) / idle.windowMs;
  const note = [
    `${idle.hosts} idle hosts of one user, each kai-agent's connection loop and stats reporter (one process),`,
    `stats every ${INTERVAL_MS / 1000} s (the default); object calls = snapshots the agents sent × 2 (the host's`,
    `object, then the user's feed object), counted over ${idle.windowMs / 1000} s with nobody watching (after the`,
    `edge switched every host off) and ${idle.windowMs / 1000} s with one feed open:`,
    `${idle.unwatchedSnapshots} and ${idle.watchedSnapshots} snapshots.`,
  ].join(" ");
  return [
    {
      figure: `stats object calls/s, ${idle.hosts} idle hosts, nobody watching`,
      value: perSecond(idle.unwatchedSnapshots),
      baseline: perSecond(idle.watchedSnapshots),
      baselineLabel: "the same hosts with one feed open",
      unit: "calls/s",
      target: { ratioAtMost: 0.05 },
      why: "hosts the feed did not switch off keep sending",
      note,
      details: idle,
    },
    {
      figure: `first viewer → a fresh snapshot of all ${idle.hosts} hosts`,
      value: round(idle.firstViewerMs),
      baseline: round(idle.watchedGapMs),
      baselineLabel: "one stats interval as delivered while watched",
      unit: "ms",
      target: { ratioAtMost: 1 },
      why: "the walk over the user's online hosts (one D1 page, 100 calls) took longer than an interval",
    },
  ];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(done: () => boolean, what: string): Promise<void> {
  const deadline = performance.now() + SETTLE_MS;
  while (!done()) {
    if (performance.now() > deadline) throw new Error(`${what}: not within ${SETTLE_MS / 1000} s`);
    await sleep(100);
  }
}
