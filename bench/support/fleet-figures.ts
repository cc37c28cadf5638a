import type { Check, Figure } from "../run";
import { describeWindows, type RelayWindow, samplesOf } from "./fleet-window";
import type { Timed } from "./http-load";
import { median, percentile, round } from "./stats";
import { pairedRatio } from "./window-pairs";
import type { WorkerdRss } from "./workerd-memory";

/** What bench/fleet.ts measured, turned into the table's figures here. */

export interface Connects {
  /** From the first dial (or the restarted edge answering) to the last welcome; the cap when not all got in. */
  ms: number;
  /** Agents welcomed within the cap. */
  welcomed: number;
  /** Welcomed so far, every 2 s. */
  timeline: number[];
  dials: number;
  /** Dials the edge answered 429 + Retry-After (its pace was full). */
  refusals: number;
  /** Dials that failed before any answer (the agent's handshake timeout, mostly). */
  connectionErrors: number;
  maxDials: number;
  welcomesMs: number[];
  /** When not all got in: the rest let in by a closed loop (a fixed number dialling at once), and its time. */
  closedLoop?: { agents: number; ms: number };
}

export interface FleetMeasures {
  bare: { before: WorkerdRss; after: WorkerdRss; sockets: number };
  enrollMs: number;
  /**
   * The probe's relay and the owner's host list, interleaved, with only the probe's agent connected;
   * `alone[i]` and `crowded[i]` were measured next to each other (a pair), pairs spread over the run.
   */
  alone: RelayWindow[];
  connect: Connects;
  restart: Connects;
  /** `awake`: host objects still in memory (not hibernated) at the reading. */
  memory: { before: WorkerdRss; after: WorkerdRss; online: number; awake: number };
  /** The same with the whole fleet connected, pair by pair with `alone`. */
  crowded: RelayWindow[];
  feed: { eventMs: number[]; ping: Timed[] };
  burst: {
    /** One such event alone, sent → delivered (ms, wall clock). */
    aloneMs: number;
    sent: number;
    notSent: number;
    sentMs: number;
    requests: number;
    uniqueDeliveries: number;
    deliveredEvents: number;
    unverified: number;
    /** Burst sent → its last delivery (ms, wall clock). */
    lastMs: number;
    /** How long the deliveries were waited for. */
    timeoutMs: number;
    /** Dials the agents made while the burst drained: connections the edge lost meanwhile. */
    redials: number;
    during: Timed[];
  };
  agentErrors: string[];
}

interface Run extends FleetMeasures {
  agents: number;
  users: number;
  pace: { perSecond: number; burst: number };
  rounds: number;
  capMs: number;
  inFlight: number;
}

interface Latency {
  p50: number;
  p99: number;
  count: number;
  errors: number;
  firstError: string | undefined;
}

function latency(samples: Timed[] | undefined): Latency {
  const list = samples ?? [];
  const ok = list.filter((sample) => sample.ok).map((sample) => sample.ms);
  const failed = list.filter((sample) => !sample.ok);
  return {
    p50: percentile(ok, 0.5),
    p99: percentile(ok, 0.99),
    count: list.length,
    errors: failed.length,
    firstError: failed[0] ? `${failed[0].status} ${failed[0].error ?? ""}`.trim() : undefined,
  };
}

const noErrors = (what: string, measured: Latency): Check => ({
  label: "0 errors",
  ok: measured.errors === 0,
  failure: `${measured.errors} of ${measured.count} ${what} failed (first: ${measured.firstError})`,
});

const kib = (bytes: number) => bytes / 1024;
const mib = (bytes: number) => `${round(bytes / 2 ** 20)} MiB`;
const seconds = (ms: number) => `${round(ms / 1000, 1)} s`;

export function fleetFigures(run: Run): Figure[] {
  return [...connectFigures(run), memoryFigure(run), ...relayFigures(run), ...ownerFigures(run), ...burstFigures(run)];
}

function connectFigures(run: Run): Figure[] {
  const { agents, pace } = run;
  // The pace's own schedule: a burst at once, then one turn per interval.
  const idealMs = (Math.max(0, agents - pace.burst) / pace.perSecond) * 1000;
  const checks = (connects: Connects): Check[] => [
    {
      label: "all in",
      ok: connects.welcomed === agents,
      failure: `only ${connects.welcomed} of ${agents} agents were welcomed within ${seconds(run.capMs)}`,
    },
    {
      label: "0 agent errors",
      ok: run.agentErrors.length === 0,
      failure: `the agents logged ${run.agentErrors.length} errors (first: ${run.agentErrors[0]})`,
    },
  ];
  const spread = (connects: Connects) => {
    const at = (q: number) => seconds(percentile(connects.welcomesMs, q));
    const dials =
      `${connects.dials} dials: ${connects.refusals} answered 429 + Retry-After, ${unanswered(connects)} ` +
      `failed unanswered (the agent's handshake timeout, or the edge still down), at most ${connects.maxDials} ` +
      `by one agent`;
    return connects.welcomed === agents ? `half welcomed by ${at(0.5)}, 90% by ${at(0.9)}; ${dials}` : dials;
  };
  const why = (connects: Connects) => {
    const loop = connects.closedLoop;
    const rate = loop ? round(loop.agents / (loop.ms / 1000), 1) : undefined;
    const collapse = loop
      ? `; after a restart of the edge all ${loop.agents} got in ${run.inFlight} dialling at a time ` +
        `in ${seconds(loop.ms)} (${rate}/s, what this edge took in on this machine)`
      : "";
    return `${spread(connects)}${collapse}`;
  };
  const figure = (what: string, connects: Connects, note: string): Figure => ({
    figure: `fleet: ${agents} agents ${what}`,
    value: connects.ms,
    ...(connects.welcomed === agents ? {} : { display: `${connects.welcomed} in ${seconds(run.capMs)}, not all` }),
    baseline: idealMs,
    baselineLabel: "the pace's own schedule",
    baselineDisplay:
      `${seconds(idealMs)} (${agents - pace.burst} after a burst of ${pace.burst}, ` + `at ${pace.perSecond}/s)`,
    unit: "ms",
    target: { ratioAtMost: 1.25 },
    checks: checks(connects),
    why: why(connects),
    note: `${note}; ${spread(connects)}; welcomed every 2 s: ${connects.timeline.join(", ")}`,
    details: { ...connects, welcomesMs: connects.welcomesMs.map((ms) => Math.round(ms)) },
  });
  return [
    figure(
      "connected at the default pace",
      run.connect,
      `${agents} simulated agents (kai-agent's own connection loop and RPC layer, one socket each; ` +
        `${agents - 1} in one process, the probe's in the relay sampler's) dialled at once; timed from the first dial to the last welcome, ` +
        `for at most ${seconds(run.capMs)}; the edge's default connect pace (AGENT_CONNECT_RATE_PER_SECOND ` +
        `${pace.perSecond}, AGENT_CONNECT_BURST ${pace.burst}); ${run.users} users of ${agents / run.users} ` +
        `hosts, enrolled through the API in ${seconds(run.enrollMs)}`,
    ),
    figure(
      "back after an edge restart",
      run.restart,
      "the edge stopped and started again on the same port and state; timed from the restarted edge answering " +
        "to the last agent's welcome; each agent's own jittered backoff (100 ms to 10 s) and the edge's " +
        "Retry-After decide when it dials",
    ),
  ];
}

/** Every dial the edge refused also ends in the socket's error: the rest failed without an answer. */
const unanswered = (connects: Connects) => Math.max(0, connects.connectionErrors - connects.refusals);

function memoryFigure(run: Run): Figure {
  const { bare, memory } = run;
  const per = (after: number, before: number, count: number) => (after - before) / count;
  const kaiAll = per(memory.after.all, memory.before.all, memory.online);
  const bareAll = per(bare.after.all, bare.before.all, bare.sockets);
  const kaiWorker = per(memory.after.worker, memory.before.worker, memory.online);
  const bareWorker = per(bare.after.worker, bare.before.worker, bare.sockets);
  return {
    figure: "fleet: edge memory per idle connected agent",
    value: kib(kaiAll),
    baseline: kib(bareAll),
    baselineLabel: "bare WebSocket to a no-op DO",
    unit: "KiB",
    note:
      `workerd's resident memory (VmRSS of every workerd process of that edge, the Worker ` +
      `and wrangler's dev proxy, from /proc) ${SETTLE_NOTE}: Kai ${mib(memory.before.all)} ` +
      `→ ${mib(memory.after.all)} for ${memory.online} welcomed agents; the baseline, a ` +
      `Worker whose Durable Object only accepts hibernatable WebSockets (one object per ` +
      `socket, as Kai has one per host; bench/support/bare-ws/), ${mib(bare.before.all)} ` +
      `→ ${mib(bare.after.all)} for ${bare.sockets} sockets; the Worker's process alone ` +
      `(what production runs): ${round(kib(kaiWorker))} KiB per agent against ${round(kib(bareWorker))} ` +
      `KiB per bare socket; ${memory.awake} of the ${memory.online} host objects were awake at the reading ` +
      `(their SQLite database open; the rest hibernated)`,
    details: { kai: memory, bare },
  };
}

const REST_NOTE = "5 s without requests (workerd's CPU at rest is read over them)";

const SETTLE_NOTE = "read 10 s after the last socket opened";

function relayFigures(run: Run): Figure[] {
  const alone = latency(samplesOf(run.alone, "ping"));
  const crowded = latency(samplesOf(run.crowded, "ping"));
  const pings = (window: RelayWindow) =>
    (window.samples.ping ?? []).filter((sample) => sample.ok).map((sample) => sample.ms);
  const rest = (windows: RelayWindow[]) => round(median(windows.map(restCpu)), 1);
  const note =
    `GET /api/hosts/{id}/ping through the API to one simulated agent (answered by kai-agent's ` +
    `own ping handler), sequential calls on one keep-alive connection interleaved with the ` +
    `owner's host list, made with that agent in a process of their own (not the one of the ` +
    `${run.agents - 1} other simulated agents), every request and socket sent to the Worker's own ` +
    `workerd, not through wrangler's dev proxy (production has none), ` +
    `in windows of ${run.rounds} rounds after a warm-up and ${REST_NOTE}, in ${run.alone.length} pairs ` +
    `of a window with only that agent connected and one with all ${run.agents} connected and idle, ` +
    `measured next to each other (before and after the fleet first dials; after the edge restart ` +
    `and once the others left; then again after each reconnect of the fleet); the ratio is the ` +
    `median of the pairs' own ratios, so a stall of the shared machine weighs on one pair; ` +
    `workerd's CPU at rest (median of the windows) ${rest(run.alone)} ms a second with 1 connected, ` +
    `${rest(run.crowded)} ms with ${run.agents}; p50 per window with 1 connected ${describeWindows(run.alone)}; with ` +
    `${run.agents} connected ${describeWindows(run.crowded)}`;
  const figure = (q: "p50" | "p99"): Figure => {
    const paired = pairedRatio(run.alone.map(pings), run.crowded.map(pings), q === "p50" ? 0.5 : 0.99);
    const perPair = paired.ratios.map(
      (ratio, index) =>
        `${round(paired.crowded[index] ?? 0, 1)}/${round(paired.alone[index] ?? 0, 1)} ms ${round(ratio, 2)}×`,
    );
    return {
      figure: `fleet: relay latency ${q}, ${run.agents} connected`,
      // The ratio is judged on the pairs (window-pairs.ts): the value is the median pair's, the
      // pooled latencies are shown beside it.
      value: paired.median,
      baseline: 1,
      baselineLabel: "1 connected, the same pair",
      unit: "×",
      display: `${round(crowded[q], 2)} ms pooled (pairs ${round(paired.min, 2)}×–${round(paired.max, 2)}×)`,
      baselineDisplay: `${round(alone[q], 2)} ms pooled (1 connected)`,
      target: { ratioAtMost: 1.2 },
      checks: [noErrors("pings", crowded), noErrors("pings with 1 connected", alone)],
      why: `the pairs' ${q} with ${run.agents} / with 1 connected: ${perPair.join(", ")}`,
      note: `${q === "p50" ? `${note}; ` : ""}the pairs' ${q} with ${run.agents} / with 1 connected: ${perPair.join(", ")}`,
      details: { pairs: paired },
    };
  };
  return [figure("p50"), figure("p99")];
}

/** workerd's CPU (the Worker and wrangler's dev proxy) at rest just before a window, ms a second. */
const restCpu = (window: RelayWindow) =>
  (((window.rest.groups.workerd ?? 0) + (window.rest.groups["dev proxy"] ?? 0)) / window.rest.elapsedMs) * 1000;

function ownerFigures(run: Run): Figure[] {
  const hosts = latency(samplesOf(run.crowded, "hosts"));
  const ping = latency(samplesOf(run.crowded, "ping"));
  const feedPing = latency(run.feed.ping);
  const perUser = run.agents / run.users;
  return [
    {
      figure: `fleet: GET /api/hosts p50, a user with ${perUser} hosts`,
      value: hosts.p50,
      baseline: ping.p50,
      baselineLabel: "relay ping round trip",
      unit: "ms",
      checks: [noErrors("host lists", hosts)],
      note:
        `one page of ${perUser} hosts (limit 100, the largest page) for the user whose agent ` +
        `answers the pings, interleaved with them, all ${run.agents} agents connected; p99 ` +
        `${round(hosts.p99, 2)} ms against the ping's ${round(ping.p99, 2)} ms`,
    },
    {
      figure: `fleet: container event → live feed p50, a user with ${perUser} hosts`,
      value: percentile(run.feed.eventMs, 0.5),
      baseline: feedPing.p50,
      baselineLabel: "relay ping round trip",
      unit: "ms",
      target: { ratioAtMost: 1.5 },
      checks: [noErrors("pings", feedPing)],
      why: "the event crosses the host's Durable Object, the user's feed object and its SQLite write",
      note:
        `${run.feed.eventMs.length} container events, each from the next of the user's other ${perUser - 1} ` +
        `simulated agents (not the probe's, in its own process) in turn, timed from the event frame's sending to the frame's arrival ` +
        `on the user's feed socket (WS /api/v1/ws/events), each followed by a relay ping ` +
        `after ${QUIET_NOTE}; p99 ${round(percentile(run.feed.eventMs, 0.99), 2)} ms against ` +
        `the ping's ${round(feedPing.p99, 2)} ms; unlike dashboard-feed, Docker's own event ` +
        `stream is not in the path`,
    },
  ];
}

const QUIET_NOTE = "20 ms of quiet";

function burstFigures(run: Run): Figure[] {
  const { burst } = run;
  const during = latency(burst.during);
  const without = latency(samplesOf(run.crowded, "ping"));
  const lost = burst.sent - burst.notSent - burst.deliveredEvents;
  const checks: Check[] = [
    {
      label: "none lost",
      ok: burst.notSent === 0 && lost === 0,
      failure:
        `${lost} of ${burst.sent} events were not delivered within ${seconds(burst.timeoutMs)} ` +
        `(${burst.notSent} could not be sent)`,
    },
    {
      label: "all signed",
      ok: burst.unverified === 0,
      failure: `${burst.unverified} deliveries failed the standardwebhooks signature check`,
    },
  ];
  return [
    {
      figure: `fleet: webhook fan-out, ${burst.sent} events in a burst → last delivery`,
      value: burst.lastMs,
      baseline: burst.aloneMs,
      baselineLabel: "one event alone",
      unit: "ms",
      ...(lost > 0 ? { display: `${burst.deliveredEvents} of ${burst.sent} in ${seconds(burst.timeoutMs)}` } : {}),
      checks,
      note:
        `every agent reported one start of a Kai-managed container within ${round(burst.sentMs)} ` +
        `ms, each a container.started webhook to its user's one endpoint (a local receiver ` +
        `verifying signatures with the standardwebhooks package), ${run.users} endpoints ` +
        `in all; ${burst.uniqueDeliveries} deliveries by webhook id in ${burst.requests} ` +
        `requests (${burst.requests - burst.uniqueDeliveries} repeated), ` +
        `${round(burst.deliveredEvents / (burst.lastMs / 1000))} ` +
        `events a second delivered; timed by the wall clock from the burst's sending to the ` +
        `last request's arrival; the agents dialled ${burst.redials} times meanwhile (connections ` +
        `lost, e.g. a keepalive pong later than 20 s)`,
    },
    {
      figure: "fleet: relay p50 during the webhook burst",
      value: during.p50,
      baseline: without.p50,
      baselineLabel: "without the burst",
      unit: "ms",
      ...(during.errors === during.count ? { display: "no answer" } : {}),
      checks: [noErrors("pings during the burst", during)],
      note:
        `${during.count} relay pings back to back while the burst was delivered (p99 ${round(during.p99, 2)} ` +
        `ms against ${round(without.p99, 2)} ms without); the baseline is the ${run.agents}-connected ` +
        `relay above; on local workerd every Durable Object shares one process, so the burst's ` +
        `work competes with the relay for the same threads, which Cloudflare spreads over ` +
        `machines`,
    },
  ];
}
