import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { ContainerEvent } from "../../shared/schemas/services";
import type { SwarmAgent } from "./agent-swarm";
import { FeedClient } from "./feed-client";
import type { FleetMeasures } from "./fleet-figures";
import type { FleetUser } from "./fleet-setup";
import { type Endpoint, timedGet } from "./http-load";

/**
 * The fleet benchmark's container events: made up for its agents to report, and timed from an
 * agent to its user's live feed.
 */

/** Quiet before a ping that follows an event, so it is not queued behind the event's writes. */
const QUIET_MS = 20;

const containerId = () => randomBytes(32).toString("hex");

export function containerEvent(action: ContainerEvent["action"], managed: boolean): ContainerEvent {
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
 * relay ping. The containers are not Kai-managed, so no webhook is due for them. The first
 * `warmupRounds` rounds are not counted.
 */
export async function feedLatency(
  url: string,
  owner: FleetUser,
  agents: SwarmAgent[],
  ping: Endpoint,
  rounds: number,
  warmupRounds: number,
): Promise<FleetMeasures["feed"]> {
  const viewer = await FeedClient.open(url, owner.session.token);
  const result: FleetMeasures["feed"] = { eventMs: [], ping: [] };
  try {
    for (let round = 0; round < warmupRounds + rounds; round++) {
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
      if (round >= warmupRounds) {
        result.eventMs.push(arrived - sent);
        result.ping.push(timed);
      }
    }
  } finally {
    viewer.close();
  }
  return result;
}
