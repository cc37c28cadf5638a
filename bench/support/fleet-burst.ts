import { setTimeout as sleep } from "node:timers/promises";
import type { ContainerEvent } from "../../shared/schemas/services";
import type { startReceiver } from "../../test/support/webhook-receiver";
import type { AgentSwarm } from "./agent-swarm";
import { containerEvent } from "./fleet-feed";
import type { FleetMeasures } from "./fleet-figures";
import { probeLines, watchEdge } from "./fleet-watch";
import { type Endpoint, type Timed, timedGet } from "./http-load";
import type { ProbeProcess } from "./probe-process";

/**
 * The fleet benchmark's webhook burst: every agent's event a webhook at once, with the relay
 * timed while they drain.
 */

const BURST_TIMEOUT_MS = 180_000;
/** Past AGENT_TIMEOUT_MS (30 s), when the edge itself answers 504. */
const PING_TIMEOUT_MS = 45_000;
/** How often the side probes are sent during the webhook burst. */
const WATCH_EVERY_MS = 1000;

/**
 * Every agent reports one start of a Kai-managed container at once: each is a
 * `container.started` webhook to its user's endpoint. Deliveries are counted by webhook id
 * (a retry repeats its id) and matched to the events sent; the relay is pinged back to back
 * until the last one arrived.
 */
export async function webhookBurst(
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
