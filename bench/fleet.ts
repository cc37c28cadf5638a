import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { type Edge, migrate, startEdge } from "../test/support/edge-server";
import { startReceiver } from "../test/support/webhook-receiver";
import type { Benchmark, RunOptions } from "./run";
import { AgentSwarm } from "./support/agent-swarm";
import { openBareSockets, startBareEdge } from "./support/bare-edge";
import { meterCpu } from "./support/cpu-meter";
import { webhookBurst } from "./support/fleet-burst";
import { CLOSED_LOOP_IN_FLIGHT, connectFleet, reconnectFleet, SETTLE_MS, snapshotDials } from "./support/fleet-connect";
import { feedLatency } from "./support/fleet-feed";
import { type FleetMeasures, fleetFigures } from "./support/fleet-figures";
import { enrollFleet, type FleetUser, registerWebhooks } from "./support/fleet-setup";
import type { RelayWindow } from "./support/fleet-window";
import type { Endpoint } from "./support/http-load";
import { ProbeProcess } from "./support/probe-process";
import { Scope } from "./support/scope";
import { awakeObjects, workerdRss } from "./support/workerd-memory";

/**
 * The fleet: 1,000 simulated agents (bench/support/agent-swarm.ts: kai-agent's own connection
 * loop and RPC layer, one process, 1,000 sockets) on one local edge, their hosts enrolled for
 * 10 users of 100 hosts each, agent connects paced by the edge's DEFAULT pace. In order:
 * the bare baseline's memory; the relay with 1 agent connected; all 1,000 dialling at once;
 * the edge's memory with them idle; the relay, a user's host list and a container event on
 * its live feed with all connected; a burst of 1,000 webhook-worthy events; an edge restart;
 * the relay again with all connected, then with only 1; then MORE_PAIRS times: all dial again,
 * the relay with all connected, then with only 1. Everything talks to the Worker's own workerd,
 * not through wrangler's dev proxy (see `fleet`).
 */

const AGENTS = 1000;
const USERS = 10;
/** The edge's defaults (edge/config.ts), which this bench does not override. */
const DEFAULT_PACE = { perSecond: 50, burst: 50 };
/**
 * Per relay window. 1,000 rounds make each side's p99 the 20th-slowest of
 * 2,000 pings rather than the 6th of 600, which one stall of the shared machine moved.
 */
const ROUNDS = { full: 1000, quick: 100 };
const WARMUP_ROUNDS = 20;
/**
 * Pairs of relay windows (1 connected, 1,000 connected, measured next to each other) after the
 * two the run's course gives (before the fleet dials and after the edge restart): each is a
 * reconnect and a disconnect of the fleet more. The ratio is the median of the pairs' own
 * ratios (window-pairs.ts), so a stall of the shared machine weighs on one pair, not on a side;
 * five pairs in all, an odd count, so the median is one pair's ratio.
 */
const MORE_PAIRS = 3;
const FEED_ROUNDS = { full: 100, quick: 40 };
/** Quiet before each relay window, over which workerd's CPU at rest is read (the fleet's own upkeep). */
const REST_MS = 5_000;
/** How long a fleet gets to connect at the pace before what is left is let in by the closed loop. */
const CONNECT_CAP_MS = { full: 90_000, quick: 60_000 };
/**
 * What the bench raises and why: the API limiter is set out of reach (1,000 enrollments and
 * thousands of timed calls from one user), loopback webhook targets are allowed (the local
 * receiver), and the agent timeout stays at its documented default. The connect pace is NOT set.
 */
const FLEET_VARS = {
  AGENT_TIMEOUT_MS: "30000",
  API_RATE_LIMIT_PER_HOUR: "100000000",
  WEBHOOKS_ALLOW_PRIVATE: "true",
};

export const benchmark: Benchmark = {
  name: "fleet",
  order: 10,
  async run({ quick }: RunOptions) {
    const rounds = quick ? ROUNDS.quick : ROUNDS.full;
    const bare = await bareBaseline();
    const scope = new Scope();
    try {
      const capMs = quick ? CONNECT_CAP_MS.quick : CONNECT_CAP_MS.full;
      const measures = await fleet(scope, { rounds, feedRounds: quick ? FEED_ROUNDS.quick : FEED_ROUNDS.full, capMs });
      return fleetFigures({
        ...measures,
        bare,
        agents: AGENTS,
        users: USERS,
        pace: DEFAULT_PACE,
        rounds,
        capMs,
        inFlight: CLOSED_LOOP_IN_FLIGHT,
      });
    } finally {
      await scope.close();
    }
  },
};

/** workerd's growth for AGENTS idle sockets to the bare Worker, in bytes (all processes, and the Worker's own). */
async function bareBaseline(): Promise<FleetMeasures["bare"]> {
  const scope = new Scope();
  try {
    // Straight to the Worker, as Kai's agents are (fleet(), below, says why).
    const { workerUrl } = await startBareEdge(scope);
    process.stderr.write(`  fleet: bare baseline: opening ${AGENTS} sockets\n`);
    // One socket first, so the Worker's own start is not counted as the sockets' cost.
    for (const socket of await openBareSockets(workerUrl, 1)) socket.close();
    await sleep(SETTLE_MS / 2);
    const before = workerdRss();
    const sockets = await openBareSockets(workerUrl, AGENTS);
    scope.defer("bare sockets", () => {
      for (const socket of sockets) socket.terminate();
    });
    await sleep(SETTLE_MS);
    const after = workerdRss();
    return { before, after, sockets: sockets.length };
  } finally {
    await scope.close();
  }
}

interface Lengths {
  rounds: number;
  feedRounds: number;
  capMs: number;
}

async function fleet(scope: Scope, lengths: Lengths): Promise<Omit<FleetMeasures, "bare">> {
  const { rounds, feedRounds, capMs } = lengths;
  const persistDir = await mkdtemp(path.join(os.tmpdir(), "kai-bench-fleet-"));
  scope.defer("fleet edge state dir", () => rm(persistDir, { recursive: true, force: true }));
  await migrate(persistDir);
  let edge: Edge = await startEdge({ persistDir, vars: FLEET_VARS });
  scope.defer("fleet edge (workerd)", () => edge.stop());
  // Every request and socket of this bench goes to the Worker's own address, not to wrangler's
  // dev server in front of it: that is a ProxyWorker in a second workerd whose Durable Object
  // re-sends each request and pipes each WebSocket message (keepalives included) through itself,
  // which production does not have. Measured on this machine it added about 4 ms to a relay
  // ping's p50 and 3 ms of CPU per request, and about a third to workerd's CPU at rest with
  // 1,000 agents connected; both sides of every ratio here are measured direct alike. The
  // address changes when the edge restarts: `restartEdge` points everything at the new one.
  let url = edge.workerUrl;

  const secret = `whsec_${randomBytes(24).toString("base64")}`;
  const receiver = await startReceiver(secret);
  scope.defer("webhook receiver", () => receiver.close());

  const enrollStarted = performance.now();
  const users = await enrollFleet(
    url,
    Array.from({ length: USERS }, () => AGENTS / USERS),
  );
  const enrollMs = performance.now() - enrollStarted;
  await registerWebhooks(users, `${receiver.url}/hook`, secret, ["container.started"]);

  const hosts = users.flatMap((user) => user.hosts);
  const [probeHost, ...otherHosts] = hosts;
  if (!probeHost) throw new Error("no host enrolled");
  // The probe agent and the relay's HTTP client in a process of their own (relay-sampler.ts):
  // the measured path is the edge's, not this process's event loop with 999 agents on it.
  const probe = await ProbeProcess.start(url, probeHost);
  scope.defer("relay sampler", () => probe.close());
  const swarm = await AgentSwarm.create(url, otherHosts, [probe]);
  scope.defer("simulated agents", () => swarm.close());
  const owner = users[0] as FleetUser;
  // The feed's events come from the owner's agents in this process: the probe's would cross to its process first.
  const feedAgents = swarm.simulated.slice(0, owner.hosts.length - 1);
  let endpoints = probeEndpoints(url, owner);

  // (c) the baseline: the relay with only the probe's agent connected. The owner's host list is
  // interleaved as it is with the fleet connected (below): the same requests between two pings
  // (the list's D1 read and its garbage in the Worker's isolate), so only the fleet differs.
  swarm.start([probe]);
  await swarm.welcomedAfter(0, "the probe agent", 30_000, [probe]);
  const aloneFirst = await relayWindow(probe, [endpoints.ping, endpoints.hosts], rounds);
  await swarm.stop([probe]);
  await sleep(2_000);

  const { port } = edge;
  // Memory is read before the fleet connects, on the same processes as after: a restart
  // (the fallback of connectFleet) starts new ones, read again while they hold no agent.
  let rssBefore = workerdRss();
  const restartEdge = async () => {
    await edge.stop();
    edge = await startEdge({ persistDir, port, vars: FLEET_VARS });
    url = edge.workerUrl;
    endpoints = probeEndpoints(url, owner);
    // The agents' loops dial the new address from their next dial on, as they would dial a
    // production edge again at its one address once it answers.
    await swarm.retarget(url);
    // A first request, so the Worker has started all it starts lazily before memory is read.
    await fetch(`${url}/health`).then((response) => response.text());
    rssBefore = workerdRss();
  };
  // (a) + (b): all dial at once, paced by the edge; then idle.
  const connectFrom = performance.now();
  swarm.start();
  const connect = await connectFleet(swarm, "first connect", connectFrom, capMs, restartEdge);
  await sleep(SETTLE_MS);
  const memory = { before: rssBefore, after: workerdRss(), online: swarm.online(), awake: awakeObjects("HostRelay") };

  // (c) + (d): the relay and the owner's host list with all connected, interleaved.
  const crowdedFirst = await relayWindow(probe, [endpoints.ping, endpoints.hosts], rounds);
  // (d) a container state change reaching the owner's live feed, each followed by a ping.
  const feed = await feedLatency(url, owner, feedAgents, endpoints.ping, feedRounds, WARMUP_ROUNDS);

  // (e) the webhook burst, with the relay timed while it drains.
  const burst = await webhookBurst(swarm, probe, receiver, endpoints.ping, [
    { name: "health", url: `${url}/health`, headers: {} },
    endpoints.session,
    { ...endpoints.ping, name: "ping" },
  ]);

  // (a) again: the edge restarts on the same state; every agent dials back.
  const dialsBefore = snapshotDials(swarm);
  // Agents dial back while the edge is still starting: one welcomed before `ready` (the health
  // check and the memory reading take a moment) is back too, at no time after the edge answered.
  const stopping = performance.now();
  await restartEdge();
  const ready = performance.now();
  const restart = await connectFleet(swarm, "after an edge restart", ready, capMs, restartEdge, dialsBefore, stopping);
  const errors = swarm.agents.flatMap((agent) => agent.errors);

  // (c) again, in the reverse order (1,000 connected, then 1): each side is measured once early
  // and once late in the run, so what drifts meanwhile (the shared machine's load, the edge's
  // JIT warming up, its state growing) weighs on both sides alike instead of on one.
  await sleep(SETTLE_MS);
  const crowdedAgain = await relayWindow(probe, [endpoints.ping, endpoints.hosts], rounds);
  await swarm.stop(swarm.agents.filter((agent) => agent !== probe));
  // The hosts' objects record their agents gone (D1 writes, presence events): not in the window.
  await sleep(SETTLE_MS);
  const aloneAgain = await relayWindow(probe, [endpoints.ping, endpoints.hosts], rounds);
  const alone = [aloneFirst, aloneAgain];
  const crowded = [crowdedFirst, crowdedAgain];
  for (let pair = 0; pair < MORE_PAIRS; pair++) {
    await reconnectFleet(
      swarm,
      swarm.agents.filter((agent) => agent !== probe),
      `the fleet again (pair ${pair + 3})`,
    );
    crowded.push(await relayWindow(probe, [endpoints.ping, endpoints.hosts], rounds));
    await swarm.stop(swarm.agents.filter((agent) => agent !== probe));
    await sleep(SETTLE_MS);
    alone.push(await relayWindow(probe, [endpoints.ping, endpoints.hosts], rounds));
  }

  return {
    enrollMs,
    alone,
    connect,
    restart,
    memory,
    crowded,
    feed,
    burst,
    agentErrors: errors,
  };
}

function probeEndpoints(url: string, owner: FleetUser): { ping: Endpoint; hosts: Endpoint; session: Endpoint } {
  const host = owner.hosts[0];
  if (!host) throw new Error("the owner has no host");
  const headers = { authorization: `Bearer ${owner.session.token}`, "x-kai-host": host.id };
  return {
    ping: { name: "ping", url: `${url}/api/hosts/${host.id}/ping`, headers },
    // One page of the default (and largest) size: all of the owner's 100 hosts, as the dashboard asks.
    hosts: { name: "hosts", url: `${url}/api/hosts?limit=100&offset=0`, headers },
    // The Worker, D1 (the session and the host) and the host's object, without the agent.
    session: { name: "session", url: `${url}/api/hosts/${host.id}/session`, headers },
  };
}

/**
 * A window of the relay sampled by the probe's process, after REST_MS with no requests over
 * which workerd's CPU is read: what the edge spends on its own with 1 or 1,000 connected.
 */
async function relayWindow(probe: ProbeProcess, endpoints: Endpoint[], rounds: number): Promise<RelayWindow> {
  const { cpu: rest } = await meterCpu([], () => sleep(REST_MS));
  return { ...(await probe.window(endpoints, rounds, WARMUP_ROUNDS)), rest };
}
