import { mkdir } from "node:fs/promises";
import path from "node:path";
import type Docker from "dockerode";
import type { Benchmark, Figure, RunOptions } from "./run";
import { startBareEdge, startEchoAgent } from "./support/bare-edge";
import { type Endpoint, type Timed, timedGet } from "./support/http-load";
import { type KaiStack, kaiStack } from "./support/kai-stack";
import { Scope } from "./support/scope";
import { percentile, round } from "./support/stats";

/**
 * Relay latency: p50 and p99 of two light relayed ops (a ping to the agent, listing
 * containers) against a Worker → Durable Object no-op (`GET /api/hosts/{id}/session`, which
 * asks the host's object and not the agent), in one sequential loop that rotates the order
 * of the endpoints every round so drift and noise hit all of them alike. Clients dial the
 * Worker itself, as in production, not wrangler's dev proxy in front of it.
 *
 * The same loop also times the platform's own floor of a relayed call on a bare Worker
 * (bench/support/bare-ws/): a round trip from a Durable Object over a WebSocket to a process
 * that only echoes, against a call to the same object that returns at once. Kai's relay hop
 * (ping minus no-op) is then set against that floor's hop: what Kai adds to the round trip
 * itself, apart from the work (authentication, D1) both of Kai's endpoints share.
 */

const ROUNDS = { full: 500, quick: 150 };
const WARMUP_ROUNDS = { full: 50, quick: 20 };
/** Kai containers on the host, so listing them returns something real. */
const CONTAINERS = 3;
const DIRECT_CALLS = 200;

export const benchmark: Benchmark = {
  name: "relay-latency",
  order: 1,
  async run({ quick }: RunOptions) {
    const scope = new Scope();
    try {
      const stack = await kaiStack(scope, { direct: true });
      await createContainers(stack);
      const bare = await startBareEdge(scope);
      await startEchoAgent(scope, bare.workerUrl);
      return await measure(stack, bare.workerUrl, quick);
    } finally {
      await scope.close();
    }
  },
};

async function createContainers(stack: KaiStack): Promise<void> {
  for (let index = 0; index < CONTAINERS; index++) {
    const hostPath = path.join(stack.root, `bench-${index}`);
    await mkdir(hostPath, { recursive: true });
    const created = await stack.api("/api/flexy", {
      body: { name: `kai-bench-${stack.hosts[0]?.id.slice(0, 8)}-${index}`, image: stack.image, hostPath },
    });
    if (created.status !== 201)
      throw new Error(`creating a container through the API failed: ${created.status} ${JSON.stringify(created.body)}`);
  }
}

async function measure(stack: KaiStack, bareUrl: string, quick: boolean): Promise<Figure[]> {
  const host = stack.hosts[0];
  if (!host) throw new Error("no host");
  const headers = { authorization: `Bearer ${stack.session.token}`, "x-kai-host": host.id };
  const endpoints: Endpoint[] = [
    { name: "no-op", url: `${stack.url}/api/hosts/${host.id}/session`, headers },
    { name: "ping", url: `${stack.url}/api/hosts/${host.id}/ping`, headers },
    { name: "list", url: `${stack.url}/api/flexy?limit=100`, headers },
    { name: "bare no-op", url: new URL("/echo/noop", bareUrl).href, headers: {} },
    { name: "bare relay", url: new URL("/echo/relay", bareUrl).href, headers: {} },
  ];
  const samples = new Map<string, Timed[]>(endpoints.map((endpoint) => [endpoint.name, []]));
  const rounds = quick ? ROUNDS.quick : ROUNDS.full;
  const warmup = quick ? WARMUP_ROUNDS.quick : WARMUP_ROUNDS.full;
  for (let turn = 0; turn < warmup + rounds; turn++) {
    // Rotate the order: each endpoint is first, second and third equally often.
    for (let slot = 0; slot < endpoints.length; slot++) {
      const endpoint = endpoints[(turn + slot) % endpoints.length];
      if (!endpoint) continue;
      const timed = await timedGet(endpoint);
      if (turn >= warmup) samples.get(endpoint.name)?.push(timed);
    }
  }
  const direct = await dockerDirect(stack.docker);

  const stats = (name: string) => {
    const list = samples.get(name) ?? [];
    const ok = list.filter((sample) => sample.ok).map((sample) => sample.ms);
    const failed = list.filter((sample) => !sample.ok);
    return {
      p50: percentile(ok, 0.5),
      p99: percentile(ok, 0.99),
      max: Math.max(...ok),
      errors: failed.length,
      firstError: failed[0] ? `${failed[0].status} ${failed[0].error ?? ""}` : undefined,
      ms: ok.map((ms) => round(ms, 2)),
    };
  };
  const noop = stats("no-op");
  const ping = stats("ping");
  const list = stats("list");
  const bareNoop = stats("bare no-op");
  const bareRelay = stats("bare relay");
  const details = {
    rounds,
    warmupRounds: warmup,
    containersListed: CONTAINERS,
    noop,
    ping,
    list,
    bareNoop,
    bareRelay,
    dockerDirect: direct,
  };
  const note = `${rounds} rounds after ${warmup} warm-up rounds, each round the five endpoints (Kai's three, the bare floor's two) back to back in a rotating order, one keep-alive connection, time to the full body; the agent answers ping itself; Docker answers the list call directly (from this process) in ${round(direct.listP50, 2)} ms at p50 (and /_ping in ${round(direct.pingP50, 2)} ms)`;

  const relayed = (
    name: string,
    what: string,
    measured: ReturnType<typeof stats>,
    dockerMs: number | undefined,
  ): Figure[] => {
    const errorCheck = {
      label: "0 errors",
      ok: measured.errors === 0,
      failure: `${measured.errors} of ${rounds} requests failed (first: ${measured.firstError})`,
    };
    const docker =
      dockerMs === undefined
        ? "the agent answers a ping without calling Docker"
        : "the agent answers the list from its container index, kept current from Docker's events, " +
          `instead of Docker's own list call (${round(dockerMs, 2)} ms from this process)`;
    const extra = (p: "p50" | "p99") =>
      `the relay hop (Durable Object → agent WebSocket → back) adds ${round(measured[p] - noop[p], 1)} ms over the no-op at ${p}; ${docker}`;
    return [
      {
        figure: `relay latency p50, ${what}`,
        value: measured.p50,
        baseline: noop.p50,
        baselineLabel: "Worker→DO no-op",
        unit: "ms",
        target: { ratioAtMost: 1.2 },
        checks: [errorCheck],
        why: extra("p50"),
        ...(name === "ping" ? { note, details } : {}),
      },
      {
        figure: `relay latency p99, ${what}`,
        value: measured.p99,
        baseline: noop.p99,
        baselineLabel: "Worker→DO no-op",
        unit: "ms",
        target: { ratioAtMost: 2 },
        checks: [errorCheck],
        why: extra("p99"),
      },
    ];
  };
  const kaiHop = ping.p50 - noop.p50;
  const bareHop = bareRelay.p50 - bareNoop.p50;
  const floor: Figure = {
    figure: "relay hop p50 (ping minus no-op) vs the bare platform's",
    value: kaiHop,
    baseline: bareHop,
    baselineLabel: "bare DO → WebSocket → echo process",
    unit: "ms",
    checks: [
      {
        label: "0 errors",
        ok: bareNoop.errors + bareRelay.errors === 0,
        failure: `${bareNoop.errors + bareRelay.errors} bare requests failed (first: ${bareNoop.firstError ?? bareRelay.firstError})`,
      },
    ],
    note:
      `the bare Worker's relay answers in ${round(bareRelay.p50, 2)} ms and its no-op in ${round(bareNoop.p50, 2)} ms at p50 ` +
      `(${round(bareRelay.p50 / bareNoop.p50, 2)}×), against Kai's ${round(ping.p50, 2)} and ${round(noop.p50, 2)} ms: ` +
      "Kai's no-op also authenticates the caller and reads the host from D1, so the same hop weighs less in its ratio",
  };
  return [
    ...relayed("ping", "GET /api/hosts/{id}/ping", ping, undefined),
    ...relayed("list", "GET /api/flexy", list, direct.listP50),
    floor,
  ];
}

/** The same two calls straight to the engine from this process: what the relay wraps. */
async function dockerDirect(docker: Docker): Promise<{ pingP50: number; listP50: number }> {
  const pings: number[] = [];
  const lists: number[] = [];
  for (let index = 0; index < DIRECT_CALLS; index++) {
    let started = performance.now();
    await docker.ping();
    pings.push(performance.now() - started);
    started = performance.now();
    await docker.listContainers({ all: true, filters: { label: ["kai.managed=true"] } });
    lists.push(performance.now() - started);
  }
  return { pingP50: percentile(pings, 0.5), listP50: percentile(lists, 0.5) };
}
