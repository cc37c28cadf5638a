import type { Benchmark, Figure, RunOptions } from "./run";
import type { BundledAgent } from "./support/bundled-agent";
import { AGENT_CONNECT_PACE, kaiStack } from "./support/kai-stack";
import { Scope } from "./support/scope";
import { median, round } from "./support/stats";

/**
 * Recovery: 20 enrolled hosts, each with its bundled agent connected; the edge is stopped
 * and started again on the same port and state. Each agent's reconnect time is when it logs
 * ` connected ` again, counted from the moment the edge answers again; their spread is the
 * share of reconnects landing in each 1-second bucket. The backoff cap is 10 s (agent/backoff.ts).
 * A plain restart takes a fraction of a second; the edge is also kept down longer (a slow
 * deploy, an outage) so the agents' backoff reaches its later steps and its cap.
 * What spreads the herd is the edge's connect pace (edge/routes/agent-connect.ts), set for
 * this fleet in BENCH_VARS; the agents' jittered backoff alone left them in one second.
 */

const AGENTS = 20;
/** How long the edge stays down between stop and start, per restart. */
const OUTAGES_MS = { full: [0, 5_000, 15_000], quick: [0, 5_000] };
const BACKOFF_CAP_MS = 10_000;
const SETTLE_MS = 3_000;

export const benchmark: Benchmark = {
  name: "recovery",
  order: 6,
  async run({ quick }: RunOptions) {
    const scope = new Scope();
    try {
      const stack = await kaiStack(scope, { hosts: AGENTS });
      const restarts: Restart[] = [];
      const restart = async (outage: number, vars?: Record<string, string>): Promise<Restart> => {
        await sleep(SETTLE_MS);
        const times = await stack.restartEdge(outage, vars);
        return { ...times, back: await Promise.all(stack.agents.map((agent) => reconnect(agent, times.stopping))) };
      };
      for (const outage of quick ? OUTAGES_MS.quick : OUTAGES_MS.full) restarts.push(await restart(outage));
      // The baseline: the same short restart with the edge's default pace, which lets this fleet in at once.
      const unpaced = await restart(0, { AGENT_CONNECT_RATE_PER_SECOND: "50", AGENT_CONNECT_BURST: "50" });
      return figures(restarts, unpaced);
    } finally {
      await scope.close();
    }
  },
};

interface Restart {
  stopping: number;
  stopped: number;
  ready: number;
  back: { disconnectedAt: number; connectedAt: number; attempts: number }[];
}

async function reconnect(agent: BundledAgent, since: number): Promise<Restart["back"][number]> {
  const connected = await agent.waitFor(/ connected /, since, 60_000);
  const disconnected = agent.lifecycle.find((entry) => entry.at >= since && / disconnected /.test(entry.line));
  const attempts = agent.lifecycle.filter(
    (entry) => entry.at >= since && entry.at <= connected.at && / connecting /.test(entry.line),
  ).length;
  return { disconnectedAt: disconnected?.at ?? Number.NaN, connectedAt: connected.at, attempts };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function figures(restarts: Restart[], unpacedRestart: Restart): Figure[] {
  const summary = (restart: Restart) => {
    const fromReady = restart.back.map((agent) => agent.connectedAt - restart.ready);
    const buckets = new Map<number, number>();
    for (const ms of fromReady) buckets.set(Math.floor(ms / 1000), (buckets.get(Math.floor(ms / 1000)) ?? 0) + 1);
    const attempts = restart.back.map((agent) => agent.attempts);
    return {
      downMs: restart.ready - restart.stopping,
      stopMs: restart.stopped - restart.stopping,
      noticedMs: Math.max(...restart.back.map((agent) => agent.disconnectedAt - restart.stopping)),
      fromReady,
      maxMs: Math.max(...fromReady),
      minMs: Math.min(...fromReady),
      medianMs: median(fromReady),
      attempts,
      buckets: [...buckets.entries()].sort((a, b) => a[0] - b[0]),
      busiestShare: Math.max(...buckets.values()) / restart.back.length,
    };
  };
  const per = restarts.map(summary);
  const unpaced = summary(unpacedRestart);
  type One = (typeof per)[number];
  const seconds = (ms: number) => `${round(ms / 1000, 1)} s`;
  const down = (one: One) => `down ${seconds(one.downMs)}`;
  const histogram = (one: One) =>
    one.buckets.map(([second, count]) => `${second}–${second + 1} s: ${count}`).join(", ");
  const slowest = per.reduce((worst, one) => (one.maxMs > worst.maxMs ? one : worst));
  const bunched = per.reduce((worst, one) => (one.busiestShare > worst.busiestShare ? one : worst));
  const details = per.map((one) => ({ ...one, fromReady: one.fromReady.map((ms) => Math.round(ms)) }));
  return [
    {
      figure: `recovery: slowest of ${AGENTS} agents back after an edge restart`,
      value: slowest.maxMs / 1000,
      unit: "s",
      display: per.map((one) => `${seconds(one.maxMs)} (${down(one)})`).join("; "),
      target: { atMost: (BACKOFF_CAP_MS + 2000) / 1000 },
      why: `after the edge was ${down(slowest)}, the last agent dialled ${Math.max(...slowest.attempts)} times and came back ${seconds(slowest.maxMs)} after the edge answered`,
      note: `${AGENTS} connected bundled agents; the edge stopped and started on the same port and state ${per.length} times, kept down ${per.map((one) => seconds(one.downMs)).join(", ")}; times run from the moment the restarted edge answered to each agent's next \` connected \` line (medians ${per.map((one) => seconds(one.medianMs)).join(", ")}); every agent saw the stop within ${Math.round(Math.max(...per.map((one) => one.noticedMs)))} ms; dials per agent until back, median ${per.map((one) => median(one.attempts)).join(", ")}`,
      details: { restarts: details, unpaced: { ...unpaced, fromReady: unpaced.fromReady.map((ms) => Math.round(ms)) } },
    },
    {
      figure: "recovery: largest share of reconnects in one second",
      value: bunched.busiestShare * 100,
      unit: "%",
      display: per.map((one) => `${Math.round(one.busiestShare * 100)}% (${down(one)})`).join("; "),
      baseline: unpaced.busiestShare * 100,
      baselineLabel: "unpaced",
      baselineDisplay: `${Math.round(unpaced.busiestShare * 100)}% (${down(unpaced)}, edge's default pace: ${histogram(unpaced)})`,
      target: { atMost: 20 },
      why: `after the edge was ${down(bunched)}, the ${AGENTS} agents came back between ${round(bunched.minMs / 1000, 2)} s and ${round(bunched.maxMs / 1000, 2)} s (${histogram(bunched)}): the edge's connect pace did not spread them enough`,
      note: `reconnects counted per whole second after the restarted edge answered (${per.map((one) => `${down(one)}: ${histogram(one)}`).join("; ")}); the worst restart decides the verdict; the edge paced agent connects at ${AGENT_CONNECT_PACE.perSecond}/s after a burst of ${AGENT_CONNECT_PACE.burst} (AGENT_CONNECT_RATE_PER_SECOND, AGENT_CONNECT_BURST), sized for this fleet as the default 50/s is for hundreds; the baseline is one more short restart at the default pace, under which this small fleet is not paced at all`,
    },
  ];
}
