import { setTimeout as sleep } from "node:timers/promises";
import type { AgentSwarm, SwarmAgent } from "./agent-swarm";
import type { Connects } from "./fleet-figures";

/**
 * How the fleet benchmark's agents get in: all dialling at once (first, or again after an edge
 * restart) at the edge's pace, with a closed loop for what the pace leaves out, and the fleet
 * dialling again between pairs of relay windows.
 */

/** Idle time before memory is read, so the handshakes' transient allocations are gone. */
export const SETTLE_MS = 10_000;
/** Dials the closed loop keeps open at once (AgentSwarm.startClosedLoop). */
export const CLOSED_LOOP_IN_FLIGHT = 20;
const CONNECT_TIMEOUT_MS = 300_000;

/** `agents` dial again and are left to settle, for one more pair of windows. */
export async function reconnectFleet(swarm: AgentSwarm, agents: SwarmAgent[], what: string): Promise<void> {
  const from = performance.now();
  swarm.start(agents);
  const arrival = await swarm.welcomedAfter(from, what, CONNECT_TIMEOUT_MS, agents);
  if (arrival.lastAt === undefined) {
    throw new Error(`${what}: only ${arrival.welcomed} of ${agents.length} agents got back in`);
  }
  await sleep(SETTLE_MS);
}

type Dials = Map<SwarmAgent, { dials: number; refusals: number; connectionErrors: number }>;

export function snapshotDials(swarm: AgentSwarm): Dials {
  return new Map(swarm.agents.map((agent) => [agent, { ...agent }]));
}

/**
 * The fleet dials (all at once, or all again after a restart) from `from` on, paced by the
 * edge. What is not in after `capMs` is stopped, the edge restarted (it would otherwise go
 * on serving the thousands of dials its agents gave up on) and the rest let in by a closed
 * loop, so the measurements after this one have their fleet and the loop's time says how
 * fast this edge takes agents in when they do not outrun it.
 */
export async function connectFleet(
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
