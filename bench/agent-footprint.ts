import { type ChildProcess, spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { buildAgentBundle } from "./support/bundled-agent";
import { kaiStack } from "./support/kai-stack";
import { Scope } from "./support/scope";
import { round, slope } from "./support/stats";
import type { Benchmark, Figure, RunOptions } from "./run";

/**
 * Agent footprint: the resident memory of a connected, idle, bundled agent
 * (`node dist/kai-agent.mjs`) against a bare Node process doing nothing
 * (`node -e "setInterval(()=>{},1e3)"`), both read from /proc/<pid>/status (VmRSS) after
 * settling; then both sampled every 10 s over an idle run to see whether the agent grows.
 */

const SETTLE_MS = { full: 30_000, quick: 10_000 };
const IDLE_MS = { full: 10 * 60_000, quick: 60_000 };
const SAMPLE_EVERY_MS = 10_000;
/** Growth that would reach the 80 MiB budget from ~50 MiB within about five hours. */
const STABLE_SLOPE_MIB_PER_MIN = 0.1;
const MIB = 1024 * 1024;

export const benchmark: Benchmark = {
  name: "agent-footprint",
  order: 5,
  async run({ quick }: RunOptions) {
    const scope = new Scope();
    try {
      const bundle = await buildAgentBundle();
      const stack = await kaiStack(scope);
      const agentPid = stack.agents[0]?.pid;
      if (!agentPid) throw new Error("the agent did not start");
      const bare: ChildProcess = spawn(process.execPath, ["-e", "setInterval(()=>{},1e3)"], { stdio: "ignore" });
      const bareExit = new Promise((resolve) => bare.once("exit", resolve));
      scope.defer("bare node", async () => {
        bare.kill("SIGKILL");
        await bareExit;
      });
      if (!bare.pid) throw new Error("bare node did not start");

      await sleep(quick ? SETTLE_MS.quick : SETTLE_MS.full);
      const idleMs = quick ? IDLE_MS.quick : IDLE_MS.full;
      const samples: { minute: number; agent: number; bare: number }[] = [];
      const started = performance.now();
      for (let at = 0; at <= idleMs; at += SAMPLE_EVERY_MS) {
        await sleep(Math.max(0, started + at - performance.now()));
        samples.push({ minute: (performance.now() - started) / 60_000, agent: await rssMiB(agentPid), bare: await rssMiB(bare.pid) });
      }
      const lifecycle = stack.agents[0]?.lifecycle.map((entry) => entry.line) ?? [];
      return figures(bundle.bytes, samples, idleMs, lifecycle);
    } finally {
      await scope.close();
    }
  },
};

async function rssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const kib = Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1]);
  if (!Number.isFinite(kib)) throw new Error(`no VmRSS for process ${pid}`);
  return kib / 1024;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function series(values: { minute: number; value: number }[]) {
  const first = values[0]?.value ?? 0;
  const last = values.at(-1)?.value ?? 0;
  return {
    start: first,
    end: last,
    max: Math.max(...values.map((point) => point.value)),
    slope: slope(values.map((point) => ({ x: point.minute, y: point.value }))),
  };
}

function figures(bundleBytes: number, samples: { minute: number; agent: number; bare: number }[], idleMs: number, lifecycle: string[]): Figure[] {
  const agent = series(samples.map((sample) => ({ minute: sample.minute, value: sample.agent })));
  const bare = series(samples.map((sample) => ({ minute: sample.minute, value: sample.bare })));
  const minutes = idleMs / 60_000;
  const describe = (s: typeof agent) => `${round(s.start)} → ${round(s.end)} MiB (max ${round(s.max)}, ${s.slope >= 0 ? "+" : ""}${round(s.slope, 3)} MiB/min)`;
  const reconnects = lifecycle.filter((line) => / disconnected /.test(line)).length;
  const peak = samples.reduce((best, sample) => (sample.agent > best.agent ? sample : best));
  // A sawtooth (garbage piling up between major collections) looks like growth to a slope
  // over one window: find the biggest drop, so the verdict can say which it saw.
  const drop = samples.slice(1).reduce(
    (best, sample, index) => {
      const fall = (samples[index]?.agent ?? sample.agent) - sample.agent;
      return fall > best.fall ? { fall, minute: sample.minute } : best;
    },
    { fall: 0, minute: 0 },
  );
  const causes = [...new Set(lifecycle.filter((line) => / WARN /.test(line)).map((line) => line.replace(/^\S+ WARN\s+/, "")))];
  return [
    {
      figure: "agent idle RSS, connected, bundled",
      value: agent.start,
      baseline: bare.start,
      baselineLabel: "bare Node",
      unit: "MiB",
      target: { ratioAtMost: 2, atMost: 80 },
      why: `the bundle is ${round(bundleBytes / MIB, 1)} MiB of JavaScript that Node parses and keeps (dockerode, ws, zod and the command table), on top of Node's own ${round(bare.start)} MiB`,
      note: "VmRSS from /proc/<pid>/status once both have settled after the agent's welcome; the bare process is `node -e \"setInterval(()=>{},1e3)\"` started at the same time",
      details: { samples: samples.map((sample) => ({ minute: round(sample.minute, 2), agent: round(sample.agent, 2), bare: round(sample.bare, 2) })), agent, bare, agentLifecycle: lifecycle },
    },
    {
      figure: `agent RSS over a ${minutes}-minute idle run`,
      value: agent.slope,
      unit: "MiB/min",
      display: describe(agent),
      baselineDisplay: `${describe(bare)} (bare Node)`,
      target: { atMost: STABLE_SLOPE_MIB_PER_MIN },
      targetLabel: `stable: growth ≤ ${STABLE_SLOPE_MIB_PER_MIN} MiB/min`,
      why:
        drop.fall >= 0.5
          ? `it rose to ${round(agent.max)} MiB by minute ${round(peak.minute, 1)}, a collection at minute ${round(drop.minute, 1)} gave back ${round(drop.fall)} MiB, and it ended ${round(agent.end - agent.start)} MiB above the start; one ${minutes}-minute window holds a single such cycle, so the slope cannot tell garbage awaiting collection from retained growth${reconnects > 0 ? ` (${reconnects} reconnect(s) during the run)` : ""}`
          : `it grew from ${round(agent.start)} to ${round(agent.end)} MiB (peak ${round(agent.max)} at minute ${round(peak.minute, 1)}) with no collection giving memory back${reconnects > 0 ? `, across ${reconnects} reconnect(s)` : ""}`,
      note: `sampled every ${SAMPLE_EVERY_MS / 1000} s for ${minutes} min (${samples.length} samples); the slope is a least-squares fit; the peak was at minute ${round(peak.minute, 1)}; the agent stayed connected${reconnects > 0 ? ` except for ${reconnects} reconnect(s) (${causes.join("; ")})` : ""}, keeping its keepalive, Docker state check and event stream running`,
    },
    {
      figure: "agent bundle size, dist/kai-agent.mjs",
      value: bundleBytes / 1024,
      unit: "KiB",
      note: "`npm run build:agent` (esbuild, minified, one file that needs only Node)",
    },
  ];
}
