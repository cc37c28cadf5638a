import type { ContainerEvent } from "../../shared/schemas/services";
import { AgentSwarm, type SwarmHost } from "./agent-swarm";
import { type SamplerWindow, type Sent, watchedLoop } from "./fleet-window";
import { type Endpoint, timedGet } from "./http-load";

/**
 * The fleet bench's relay sampler, a process of its own (started by probe-process.ts): the
 * probe agent (one simulated agent, kai-agent's own connection loop and RPC layer) and the
 * HTTP client that pings it through the edge. In the bench's process they shared one event
 * loop with the 999 other simulated agents, whose keepalives, timers and garbage collections
 * could delay the probe's answer or the client's read: a ping slower with the fleet connected
 * for a reason that is not the edge's. Here only the edge is in the measured path, alike with
 * 1 and with 1,000 connected.
 * Usage: node --import tsx relay-sampler.ts SERVER HOST_JSON, with an IPC channel; the bench
 * sends requests ({ id, op, ... }) and gets { id, result } or { id, error } back, and the
 * probe agent's state ({ state }) whenever it changes.
 */

/** What the bench asks of the sampler. */
export type SamplerRequest = { id: number } & (
  | { op: "start" }
  | { op: "stop" }
  | { op: "event"; event: ContainerEvent }
  | { op: "window"; endpoints: Endpoint[]; rounds: number; warmupRounds: number }
  | { op: "pings" }
  | { op: "retarget"; server: string }
);

/** The probe agent's state as the swarm reads it; `welcomedAt` as an epoch time in ms (the processes' clocks differ). */
export interface ProbeState {
  welcomedAtEpoch: number | undefined;
  online: boolean;
  dials: number;
  refusals: number;
  connectionErrors: number;
  errors: string[];
}

export type SamplerMessage = { state: ProbeState } | { id: number; result: unknown } | { id: number; error: string };

/** Sequential rounds of `endpoints` in a rotating order after a warm-up; samples by name. */
async function sampleRounds(endpoints: Endpoint[], rounds: number, warmupRounds: number) {
  const samples: Record<string, Sent[]> = Object.fromEntries(endpoints.map((endpoint) => [endpoint.name, []]));
  for (let turn = 0; turn < warmupRounds + rounds; turn++) {
    for (let slot = 0; slot < endpoints.length; slot++) {
      const endpoint = endpoints[(turn + slot) % endpoints.length] as Endpoint;
      const sentAt = performance.now();
      const timed = await timedGet(endpoint);
      if (turn >= warmupRounds) samples[endpoint.name]?.push({ ...timed, sentAt });
    }
  }
  return samples;
}

const epoch = (at: number) => performance.timeOrigin + at;

async function main(): Promise<void> {
  const [server, hostJson] = process.argv.slice(2);
  if (!server || !hostJson) throw new Error("usage: relay-sampler.ts SERVER HOST_JSON");
  const swarm = await AgentSwarm.create(server, [JSON.parse(hostJson) as SwarmHost]);
  const probe = swarm.simulated[0];
  if (!probe) throw new Error("no probe agent");
  const send = (message: SamplerMessage) => process.send?.(message);
  probe.onChange = () =>
    send({
      state: {
        welcomedAtEpoch: probe.welcomedAt === undefined ? undefined : epoch(probe.welcomedAt),
        online: probe.online,
        dials: probe.dials,
        refusals: probe.refusals,
        connectionErrors: probe.connectionErrors,
        errors: probe.errors,
      },
    });

  const handle = async (request: SamplerRequest): Promise<unknown> => {
    switch (request.op) {
      case "start":
        return probe.start();
      case "stop":
        return probe.stop();
      case "event":
        return probe.event(request.event);
      case "pings":
        return probe.pingsReceived.map(epoch);
      case "retarget":
        return probe.retarget(request.server);
      case "window": {
        const handledBefore = probe.pingHandlingMs.length;
        const window = await watchedLoop(() => sampleRounds(request.endpoints, request.rounds, request.warmupRounds));
        return { ...window, probeHandlingMs: probe.pingHandlingMs.slice(handledBefore) } satisfies SamplerWindow;
      }
    }
  };
  process.on("message", (request: SamplerRequest) => {
    handle(request).then(
      (result) => send({ id: request.id, result }),
      (error: unknown) => send({ id: request.id, error: error instanceof Error ? error.message : String(error) }),
    );
  });
  // The bench went away (or closes this): nothing is left to sample for.
  process.once("disconnect", () => {
    void swarm.close().finally(() => process.exit(0));
  });
  send({ id: 0, result: "ready" });
}

main().catch((error: unknown) => {
  process.stderr.write(`relay sampler: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
