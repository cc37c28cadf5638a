import os from "node:os";
import type { Benchmark, Figure, RunOptions } from "./run";
import { type CpuWindow, foreignLoad, meterCpu } from "./support/cpu-meter";
import { closedLoop, type Endpoint, type LoadResult } from "./support/http-load";
import { kaiStack } from "./support/kai-stack";
import { Scope } from "./support/scope";
import { percentile, round } from "./support/stats";

/**
 * Relay throughput: requests per second that 32 concurrent keep-alive clients get from a
 * relayed ping (edge → Durable Object → agent over its WebSocket → back), against the same
 * load on the Worker → Durable Object no-op. Measured ABAB (relay, no-op, relay, no-op) so
 * a drift in the machine's load does not favour either.
 */

const CLIENTS = 32;
const WINDOW_MS = { full: 10_000, quick: 4_000 };
const WARMUP_MS = { full: 3_000, quick: 1_500 };
const ROUNDS = { full: 3, quick: 2 };

export const benchmark: Benchmark = {
  name: "relay-throughput",
  order: 2,
  async run({ quick }: RunOptions) {
    const scope = new Scope();
    try {
      const stack = await kaiStack(scope);
      const host = stack.hosts[0];
      if (!host) throw new Error("no host");
      const headers = { authorization: `Bearer ${stack.session.token}`, "x-kai-host": host.id };
      const noop: Endpoint = { name: "no-op", url: `${stack.url}/api/hosts/${host.id}/session`, headers };
      const ping: Endpoint = { name: "ping", url: `${stack.url}/api/hosts/${host.id}/ping`, headers };
      const window = quick ? WINDOW_MS.quick : WINDOW_MS.full;
      const warmup = quick ? WARMUP_MS.quick : WARMUP_MS.full;

      await closedLoop(noop, CLIENTS, warmup);
      await closedLoop(ping, CLIENTS, warmup);
      const agentPids = stack.agents.map((agent) => agent.pid ?? 0);
      const relayed: Metered[] = [];
      const baseline: Metered[] = [];
      for (let pass = 0; pass < (quick ? ROUNDS.quick : ROUNDS.full); pass++) {
        relayed.push(await meterCpu(agentPids, () => closedLoop(ping, CLIENTS, window)));
        baseline.push(await meterCpu(agentPids, () => closedLoop(noop, CLIENTS, window)));
      }
      // A reconnect during the windows would explain errors: keep the agent's own account.
      const lifecycle = stack.agents.flatMap((agent) => agent.lifecycle.map((entry) => entry.line));
      return figures(
        combine(relayed),
        combine(baseline),
        window,
        lifecycle,
        [...relayed, ...baseline].map((one) => one.cpu),
      );
    } finally {
      await scope.close();
    }
  },
};

type Metered = { result: LoadResult; cpu: CpuWindow };

function combine(windows: Metered[]) {
  const results = windows.map((window) => window.result);
  const completed = results.reduce((sum, result) => sum + result.completed, 0);
  const errors = results.reduce((sum, result) => sum + result.errors, 0);
  const elapsedMs = results.reduce((sum, result) => sum + result.elapsedMs, 0);
  const latencies = results.flatMap((result) => result.latencies);
  return {
    completed,
    errors,
    firstError: results.find((result) => result.firstError)?.firstError,
    rps: completed / (elapsedMs / 1000),
    perRound: results.map((result) => round(result.completed / (result.elapsedMs / 1000))),
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    machineBusy: windows.reduce((sum, window) => sum + window.cpu.machineBusy, 0) / Math.max(1, windows.length),
    workerdThreadBusy:
      windows.reduce((sum, window) => sum + window.cpu.workerdThreadBusy, 0) / Math.max(1, windows.length),
    foreign: foreignLoad(windows.map((window) => window.cpu)),
    /** CPU ms per completed request, per process group. */
    cpuPerRequest: perRequest(windows, completed),
  };
}

/** CPU ms per completed request: the whole machine's, and per process group ("other": interrupts, processes that came and went). */
function perRequest(windows: Metered[], completed: number): Record<string, number> {
  const totals: Record<string, number> = { machine: 0 };
  for (const window of windows) {
    totals.machine = (totals.machine ?? 0) + window.cpu.machineBusy * os.cpus().length * window.result.elapsedMs;
    for (const [group, ms] of Object.entries(window.cpu.groups)) totals[group] = (totals[group] ?? 0) + ms;
  }
  const known = Object.entries(totals).reduce((sum, [group, ms]) => (group === "machine" ? sum : sum + ms), 0);
  totals.other = Math.max(0, (totals.machine ?? 0) - known);
  return Object.fromEntries(
    Object.entries(totals).map(([group, ms]) => [group, round(ms / Math.max(1, completed), 2)]),
  );
}

function breakdown(cost: Record<string, number>): string {
  return Object.entries(cost)
    .filter(([group]) => group !== "machine")
    .map(([group, ms]) => `${group} ${ms}`)
    .join(", ");
}

function pct(share: number): string {
  return `${Math.round(share * 100)}%`;
}

function figures(
  relayed: ReturnType<typeof combine>,
  baseline: ReturnType<typeof combine>,
  window: number,
  lifecycle: string[],
  windows: CpuWindow[],
): Figure[] {
  const reconnects = lifecycle.filter((line) => / disconnected /.test(line));
  const failures = relayed.errors + baseline.errors;
  const cpus = os.cpus().length;
  return [
    {
      figure: `relay throughput at ${CLIENTS} clients, GET /api/hosts/{id}/ping`,
      value: relayed.rps,
      baseline: baseline.rps,
      baselineLabel: "Worker→DO no-op",
      unit: "req/s",
      target: { ratioAtLeast: 0.7 },
      checks: [
        {
          label: "0 errors",
          ok: failures === 0,
          failure: `${relayed.errors} relayed and ${baseline.errors} no-op requests failed (first: ${relayed.firstError ?? baseline.firstError})${reconnects.length > 0 ? `, and the agent logged: ${reconnects.join(" / ")}` : ""}`,
        },
      ],
      why: `the rate follows workerd's CPU per request: its JavaScript thread was ${pct(relayed.workerdThreadBusy)} busy under the relay and ${pct(baseline.workerdThreadBusy)} under the no-op (about all one thread gets on ${cpus} cores shared with the agent and the load generator), and a relayed ping costs it ${relayed.cpuPerRequest.workerd} ms of CPU against ${baseline.cpuPerRequest.workerd} ms for the no-op${foreignLoad(windows).clause}`,
      note: `${CLIENTS} closed-loop clients (Node fetch, keep-alive), ${relayed.perRound.length} windows of ${window / 1000} s each alternating relay and no-op after a warm-up; ${relayed.completed} relayed and ${baseline.completed} no-op requests, ${failures} errors; per-window req/s relay ${relayed.perRound.join(", ")}, no-op ${baseline.perRound.join(", ")}; machine ${pct(relayed.machineBusy)} / ${pct(baseline.machineBusy)} busy; CPU ms per request, relay: ${breakdown(relayed.cpuPerRequest)}; no-op: ${breakdown(baseline.cpuPerRequest)} ("dev proxy" is wrangler's local proxy Worker, absent in production)`,
      details: { clients: CLIENTS, windowMs: window, relayed, baseline, agentLifecycle: lifecycle },
    },
  ];
}
