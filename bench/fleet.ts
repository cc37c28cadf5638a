import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { ContainerEvent } from "../shared/schemas/services";
import { type Edge, migrate, startEdge } from "../test/support/edge-server";
import { startReceiver } from "../test/support/webhook-receiver";
import type { Benchmark, RunOptions } from "./run";
import { AgentSwarm, type SwarmAgent } from "./support/agent-swarm";
import { openBareSockets, startBareEdge } from "./support/bare-edge";
import { meterCpu } from "./support/cpu-meter";
import { FeedClient } from "./support/feed-client";
import { type Connects, type FleetMeasures, fleetFigures } from "./support/fleet-figures";
import { enrollFleet, type FleetUser, registerWebhooks } from "./support/fleet-setup";
import { probeLines, watchEdge } from "./support/fleet-watch";
import type { RelayWindow } from "./support/fleet-window";
import { type Endpoint, type Timed, timedGet } from "./support/http-load";
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
/** Idle time before memory is read, so the handshakes' transient allocations are gone. */
const SETTLE_MS = 10_000;
/** Quiet before each relay window, over which workerd's CPU at rest is read (the fleet's own upkeep). */
const REST_MS = 5_000;
/** How long a fleet gets to connect at the pace before what is left is let in by the closed loop. */
const CONNECT_CAP_MS = { full: 90_000, quick: 60_000 };
/** Dials the closed loop keeps open at once (AgentSwarm.startClosedLoop). */
const CLOSED_LOOP_IN_FLIGHT = 20;
const CONNECT_TIMEOUT_MS = 300_000;
const BURST_TIMEOUT_MS = 180_000;
/** Past AGENT_TIMEOUT_MS (30 s), when the edge itself answers 504. */
const PING_TIMEOUT_MS = 45_000;
/** Quiet before a ping that follows an event, so it is not queued behind the event's writes. */
const QUIET_MS = 20;
/** How often the side probes are sent during the webhook burst. */
const WATCH_EVERY_MS = 1000;
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
  const feed = await feedLatency(url, owner, feedAgents, endpoints.ping, feedRounds);

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

/** `agents` dial again and are left to settle, for one more pair of windows. */
async function reconnectFleet(swarm: AgentSwarm, agents: SwarmAgent[], what: string): Promise<void> {
  const from = performance.now();
  swarm.start(agents);
  const arrival = await swarm.welcomedAfter(from, what, CONNECT_TIMEOUT_MS, agents);
  if (arrival.lastAt === undefined) {
    throw new Error(`${what}: only ${arrival.welcomed} of ${agents.length} agents got back in`);
  }
  await sleep(SETTLE_MS);
}

type Dials = Map<SwarmAgent, { dials: number; refusals: number; connectionErrors: number }>;

function snapshotDials(swarm: AgentSwarm): Dials {
  return new Map(swarm.agents.map((agent) => [agent, { ...agent }]));
}

/**
 * The fleet dials (all at once, or all again after a restart) from `from` on, paced by the
 * edge. What is not in after `capMs` is stopped, the edge restarted (it would otherwise go
 * on serving the thousands of dials its agents gave up on) and the rest let in by a closed
 * loop, so the measurements after this one have their fleet and the loop's time says how
 * fast this edge takes agents in when they do not outrun it.
 */
async function connectFleet(
  swarm: AgentSwarm,
  what: string,
  from: number,
  capMs: number,
  restartEdge: () => Promise<void>,
  before?: Dials,
  countFrom = from,
): Promise<Connects> {
  const arrival = await swarm.welcomedAfter(countFrom, what, capMs);
  const counted = (key: "dials" | "refusals" | "connectionErrors") =>
    swarm.agents.map((agent) => agent[key] - (before?.get(agent)?.[key] ?? 0));
  const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);
  const dials = counted("dials");
  const connects: Connects = {
    ms: arrival.lastAt === undefined ? capMs : Math.max(0, arrival.lastAt - from),
    welcomed: arrival.welcomed,
    timeline: arrival.timeline,
    dials: sum(dials),
    refusals: sum(counted("refusals")),
    connectionErrors: sum(counted("connectionErrors")),
    maxDials: Math.max(...dials),
    welcomesMs: swarm.agents
      .map((agent) => (agent.welcomedAt ?? 0) - from)
      .filter((ms) => ms > 0)
      .sort((a, b) => a - b),
  };
  if (arrival.lastAt !== undefined) return connects;

  // All of them: the restart drops those that got in too.
  const missing = swarm.agents;
  await swarm.stop(missing);
  process.stderr.write(
    `  fleet: ${what}: ${agentsLeft(swarm, from)} not in; restarting the edge to let all in a few at a time\n`,
  );
  await restartEdge();
  const loopFrom = performance.now();
  const started = swarm.startClosedLoop(missing, CLOSED_LOOP_IN_FLIGHT, loopFrom);
  const rest = await swarm.welcomedAfter(loopFrom, `${what}: the rest, closed loop`, CONNECT_TIMEOUT_MS, missing);
  await started;
  if (rest.lastAt === undefined) {
    throw new Error(`${what}: even a closed loop let only ${rest.welcomed} of ${missing.length} agents in`);
  }
  return { ...connects, closedLoop: { agents: missing.length, ms: rest.lastAt - loopFrom } };
}

const agentsLeft = (swarm: AgentSwarm, since: number) =>
  swarm.agents.filter((agent) => (agent.welcomedAt ?? 0) <= since).length;

const containerId = () => randomBytes(32).toString("hex");

function containerEvent(action: ContainerEvent["action"], managed: boolean): ContainerEvent {
  const id = containerId();
  return {
    action,
    containerId: id,
    name: `kai-bench-fleet-${id.slice(0, 8)}`,
    image: "busybox:latest",
    managed,
    exitCode: null,
    time: new Date().toISOString(),
  };
}

/**
 * Each round one of the owner's agents (in turn) reports a container start, timed from the
 * frame's sending to its arrival on the owner's feed socket; then, after a short quiet, one
 * relay ping. The containers are not Kai-managed, so no webhook is due for them.
 */
async function feedLatency(
  url: string,
  owner: FleetUser,
  agents: SwarmAgent[],
  ping: Endpoint,
  rounds: number,
): Promise<FleetMeasures["feed"]> {
  const viewer = await FeedClient.open(url, owner.session.token);
  const result: FleetMeasures["feed"] = { eventMs: [], ping: [] };
  try {
    for (let round = 0; round < WARMUP_ROUNDS + rounds; round++) {
      const agent = agents[round % agents.length] as SwarmAgent;
      const event = containerEvent("start", false);
      const seen = viewer.next(
        (frame) => frame.type === "container" && frame.event.containerId === event.containerId,
        "a container event on the owner's feed",
      );
      const sent = performance.now();
      if (!agent.event(event)) throw new Error(`agent of host ${agent.host.id} is not connected`);
      const { arrived } = await seen;
      await sleep(QUIET_MS);
      const timed = await timedGet(ping);
      if (round >= WARMUP_ROUNDS) {
        result.eventMs.push(arrived - sent);
        result.ping.push(timed);
      }
    }
  } finally {
    viewer.close();
  }
  return result;
}

/**
 * Every agent reports one start of a Kai-managed container at once: each is a
 * `container.started` webhook to its user's endpoint. Deliveries are counted by webhook id
 * (a retry repeats its id) and matched to the events sent; the relay is pinged back to back
 * until the last one arrived.
 */
async function webhookBurst(
  swarm: AgentSwarm,
  probe: ProbeProcess,
  receiver: Awaited<ReturnType<typeof startReceiver>>,
  ping: Endpoint,
  watched: Endpoint[],
): Promise<FleetMeasures["burst"]> {
  // The baseline: one such event alone, sent to delivered, from an agent of this process.
  const single = containerEvent("start", true);
  const arrived = receiver.waitFor(receiver.received.length + 1, 30_000);
  const singleAt = Date.now();
  if (!swarm.simulated[0]?.event(single)) throw new Error("the first simulated agent is not connected");
  await arrived;
  const isSingle = (item: (typeof receiver.received)[number]) => item.payload?.data.containerId === single.containerId;
  const aloneMs = Math.min(...receiver.received.filter(isSingle).map((item) => item.at)) - singleAt;

  const already = receiver.received.length;
  const events = swarm.agents.map(() => containerEvent("start", true));
  const sentIds = new Set(events.map((event) => event.containerId));
  const delivered = () => {
    const fresh = receiver.received.slice(already).filter((item) => item.payload?.type === "container.started");
    const byId = new Map(fresh.map((item) => [String(item.headers["webhook-id"]), item]));
    const events = new Set([...byId.values()].map((item) => String(item.payload?.data.containerId)));
    return { fresh, byId, events };
  };
  const dialsBefore = swarm.agents.reduce((sum, agent) => sum + agent.dials, 0);
  const pingsBefore = (await probe.pingsReceived()).length;
  const sentAt = Date.now();
  const from = performance.now();
  let notSent = 0;
  swarm.agents.forEach((agent, index) => {
    if (!agent.event(events[index] as ContainerEvent)) notSent += 1;
  });
  const sentMs = performance.now() - from;
  // Where a ping is held, if it is: the Worker alone, the Worker with D1 and the host's object, the relay.
  const stopWatch = watchEdge(watched, WATCH_EVERY_MS, PING_TIMEOUT_MS);
  // The relay is pinged back to back in the background while the deliveries are counted.
  const during: Timed[] = [];
  let draining = true;
  const pinging = (async () => {
    // A ping the edge never answers must not hold the bench for undici's 5 minutes.
    while (draining) during.push(await timedGet(ping, PING_TIMEOUT_MS));
  })();
  const deadline = from + BURST_TIMEOUT_MS;
  let lastPrint = from;
  while (delivered().events.size < sentIds.size - notSent && performance.now() < deadline) {
    await sleep(200);
    if (performance.now() - lastPrint > 5000) {
      lastPrint = performance.now();
      process.stderr.write(`  fleet: webhook burst: ${delivered().events.size}/${sentIds.size} delivered\n`);
    }
  }
  draining = false;
  await pinging;
  const probes = await stopWatch();
  const reached = (await probe.pingsReceived()).slice(pingsBefore).map((at) => Math.round(at - from));
  process.stderr.write(
    `  fleet: webhook burst: the probe agent was handed ${reached.length} pings, at ${reached.join(", ")} ms; ` +
      `side probes (sent at, answered in ms):\n${probeLines(probes)
        .map((line) => `    ${line}`)
        .join("\n")}\n`,
  );
  const { fresh, byId, events: deliveredEvents } = delivered();
  const lastAt = Math.max(...fresh.map((item) => item.at));
  return {
    aloneMs,
    sent: sentIds.size,
    notSent,
    sentMs,
    requests: fresh.length,
    uniqueDeliveries: byId.size,
    deliveredEvents: [...deliveredEvents].filter((id) => sentIds.has(id)).length,
    unverified: fresh.filter((item) => !item.verified).length,
    lastMs: lastAt - sentAt,
    timeoutMs: BURST_TIMEOUT_MS,
    redials: swarm.agents.reduce((sum, agent) => sum + agent.dials, 0) - dialsBefore,
    during,
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
