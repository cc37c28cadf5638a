import { readFile } from "node:fs/promises";
import type { Benchmark, Figure, RunOptions } from "./run";
import { buildAgentBundle } from "./support/bundled-agent";
import { bareNode, Inspector } from "./support/inspector";
import { kaiStack } from "./support/kai-stack";
import { Scope } from "./support/scope";
import { round, slope } from "./support/stats";

/**
 * Agent footprint: the resident memory of a connected, idle, bundled agent
 * (`node dist/kai-agent.mjs`) against a bare Node process doing nothing
 * (`node -e "setInterval(()=>{},1e3)"`), both read from /proc/<pid>/status (VmRSS) after
 * settling; then sampled every 10 s over an idle run to see whether the agent grows, judged
 * on a second, inspectable agent whose samples each follow a forced full collection.
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
  async run({ quick, idleMinutes }: RunOptions) {
    const scope = new Scope();
    try {
      const bundle = await buildAgentBundle();
      // Host 0's agent runs as users run it; host 1's is inspectable, to force collections.
      const stack = await kaiStack(scope, { hosts: 2, agentNodeArgs: [[], ["--inspect=127.0.0.1:0"]] });
      const [agent, inspectedAgent] = stack.agents;
      if (!agent?.pid || !inspectedAgent?.pid) throw new Error("the agents did not start");
      const bare = bareNode();
      const inspectedBare = bareNode({ inspect: true });
      for (const [label, one] of [
        ["bare node", bare],
        ["inspected bare node", inspectedBare],
      ] as const) {
        scope.defer(label, async () => {
          one.child.kill("SIGKILL");
          await one.exited;
        });
      }
      if (!bare.child.pid || !inspectedBare.child.pid) throw new Error("bare node did not start");
      const inspectors = [
        await Inspector.open(inspectedAgent.inspectorUrl),
        await Inspector.open(inspectedBare.inspectorUrl),
      ];
      scope.defer("inspector sessions", () => {
        for (const inspector of inspectors) inspector.close();
      });

      await sleep(quick ? SETTLE_MS.quick : SETTLE_MS.full);
      const idleMs = idleMinutes !== undefined ? idleMinutes * 60_000 : quick ? IDLE_MS.quick : IDLE_MS.full;
      const samples: Sample[] = [];
      // Where the memory is, read once settled, before the first forced collection.
      const split = { agent: await rssSplit(agent.pid), bare: await rssSplit(bare.child.pid) };
      const started = performance.now();
      for (let at = 0; at <= idleMs; at += SAMPLE_EVERY_MS) {
        await sleep(Math.max(0, started + at - performance.now()));
        await Promise.all(inspectors.map((inspector) => inspector.collectGarbage()));
        samples.push({
          minute: (performance.now() - started) / 60_000,
          agent: await rssMiB(agent.pid),
          bare: await rssMiB(bare.child.pid),
          collectedAgent: await rssMiB(inspectedAgent.pid),
          collectedBare: await rssMiB(inspectedBare.child.pid),
          agentHeap: (await (inspectors[0] as Inspector).heapUsed()) / MIB,
          containers: (await stack.docker.listContainers()).length,
        });
      }
      const lifecycle = [...agent.lifecycle, ...inspectedAgent.lifecycle].map((entry) => entry.line);
      return figures(bundle.bytes, samples, idleMs, lifecycle, split);
    } finally {
      await scope.close();
    }
  },
};

interface Sample {
  minute: number;
  /** VmRSS of the agent as users run it, and of a bare Node process (MiB). */
  agent: number;
  bare: number;
  /** VmRSS right after a forced full collection, of the inspectable agent and bare process. */
  collectedAgent: number;
  collectedBare: number;
  /** The inspectable agent's JavaScript heap in use after the collection (MiB). */
  agentHeap: number;
  /**
   * Containers running on the engine, anyone's: the host stats reporter samples each of them
   * (a stats stream per container), so a step in the agent's memory may follow one started.
   */
  containers: number;
}

/** VmRSS of a process from /proc/<pid>/status, in MiB. */
export async function rssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const kib = Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1]);
  if (!Number.isFinite(kib)) throw new Error(`no VmRSS for process ${pid}`);
  return kib / 1024;
}

/**
 * A process's VmRSS in two parts (MiB), from /proc/<pid>/smaps_rollup: `file`, pages of
 * mapped files (the node binary's code, its built-in modules and ICU data, shared with every
 * Node process), and `anonymous`, the process's own (the JavaScript heap, malloc).
 */
async function rssSplit(pid: number): Promise<{ file: number; anonymous: number }> {
  const rollup = await readFile(`/proc/${pid}/smaps_rollup`, "utf8");
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, "m").exec(rollup)?.[1] ?? Number.NaN);
  const rss = kib("Rss");
  const anonymous = kib("Anonymous");
  return { file: (rss - anonymous) / 1024, anonymous: anonymous / 1024 };
}

/** How many containers the engine ran over the samples, and when that changed. */
function containersText(samples: Sample[]): string {
  const counts = samples.map((sample) => sample.containers);
  const low = Math.min(...counts);
  const high = Math.max(...counts);
  if (low === high) return `${low} running container(s) throughout`;
  const changes = samples
    .slice(1)
    .filter((sample, index) => sample.containers !== samples[index]?.containers)
    .map((sample) => `${sample.containers} at minute ${round(sample.minute, 1)}`);
  return `${low}–${high} running containers (${changes.slice(0, 8).join(", ")}${changes.length > 8 ? ", …" : ""})`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function describeSplit(split: { file: number; anonymous: number }): string {
  return `${round(split.file)} MiB file-backed, ${round(split.anonymous)} MiB anonymous`;
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

/** A rise of at least this between two samples is a step (compiled code mapped in, say), not drift. */
const STEP_MIB = 2;

/** Where a series rose by a step, as "+3.1 MiB at minute 30.2, …", or "none". */
function steps(samples: Sample[], key: "agent" | "bare"): string {
  const rises = samples.slice(1).flatMap((sample, index) => {
    const rise = sample[key] - (samples[index]?.[key] ?? sample[key]);
    return rise >= STEP_MIB ? [`+${round(rise)} MiB at minute ${round(sample.minute, 1)}`] : [];
  });
  return rises.join(", ") || "none";
}

/** The agent's RSS over bare Node's at each sample: the lowest and highest, and when. */
function ratioRange(samples: Sample[]): string {
  const ratios = samples.map((sample) => ({ minute: sample.minute, ratio: sample.agent / sample.bare }));
  const low = ratios.reduce((best, point) => (point.ratio < best.ratio ? point : best));
  const high = ratios.reduce((best, point) => (point.ratio > best.ratio ? point : best));
  return `${round(low.ratio, 2)}× (minute ${round(low.minute, 1)}) to ${round(high.ratio, 2)}× (minute ${round(high.minute, 1)})`;
}

type Split = Record<"agent" | "bare", { file: number; anonymous: number }>;

function figures(bundleBytes: number, samples: Sample[], idleMs: number, lifecycle: string[], split: Split): Figure[] {
  const pick = (key: Exclude<keyof Sample, "minute" | "containers">) =>
    series(samples.map((sample) => ({ minute: sample.minute, value: sample[key] })));
  const agent = pick("agent");
  const bare = pick("bare");
  const collected = pick("collectedAgent");
  const collectedBare = pick("collectedBare");
  const heap = pick("agentHeap");
  // Growth that stops is warm-up (compiled code, caches); the second half shows whether it stopped.
  const secondHalf = series(
    samples
      .filter((sample) => sample.minute >= idleMs / 120_000)
      .map((sample) => ({ minute: sample.minute, value: sample.collectedAgent })),
  );
  const minutes = idleMs / 60_000;
  // Both the verdict and the note name the agent's steps.
  const agentSteps = steps(samples, "agent");
  const describe = (s: typeof agent) =>
    `${round(s.start)} → ${round(s.end)} MiB (max ${round(s.max)}, ${s.slope >= 0 ? "+" : ""}${round(s.slope, 3)} MiB/min)`;
  const reconnects = lifecycle.filter((line) => / disconnected /.test(line)).length;
  const causes = [
    ...new Set(lifecycle.filter((line) => / WARN /.test(line)).map((line) => line.replace(/^\S+ WARN\s+/, ""))),
  ];
  const connectedText = `both agents stayed connected${reconnects > 0 ? ` except for ${reconnects} reconnect(s) (${causes.join("; ")})` : ""}, keeping their keepalive and the engine's event stream running (the Docker state follows the stream, with a liveness check every 5 minutes)`;
  // A sawtooth (garbage piling up between major collections) looks like growth to a slope
  // over one window: the biggest drop says whether the uncollected series saw one.
  const drop = samples.slice(1).reduce(
    (best, sample, index) => {
      const fall = (samples[index]?.agent ?? sample.agent) - sample.agent;
      return fall > best.fall ? { fall, minute: sample.minute } : best;
    },
    { fall: 0, minute: 0 },
  );
  const rounded = samples.map((sample) =>
    Object.fromEntries(Object.entries(sample).map(([key, value]) => [key, round(value, 2)])),
  );
  return [
    {
      figure: "agent idle RSS, connected, bundled",
      value: agent.start,
      baseline: bare.start,
      baselineLabel: "bare Node",
      unit: "MiB",
      target: { ratioAtMost: 1.3, atMost: 80 },
      why: `of the ${round(agent.start - bare.start)} MiB more than bare Node, ${round(split.agent.file - split.bare.file)} MiB are pages of the node binary that bare Node never touches (the built-in modules a connected agent runs: http, tls, crypto, streams, child_process; no TurboFan's: the agent builds ~370 schemas at start-up, too few for zod's shared constructor init to be optimised) and ${round(split.agent.anonymous - split.bare.anonymous)} MiB its own memory: a JavaScript heap of ${round(heap.start)} MiB after a full collection (the ${round(bundleBytes / MIB, 2)} MiB bundle's source, dockerode, ws, zod and the params' and frames' schemas the agent checks with) and garbage not yet collected`,
      note: `VmRSS from /proc/<pid>/status once both have settled after the agent's welcome; the bare process is \`node -e "setInterval(()=>{},1e3)"\` started at the same time; split from /proc/<pid>/smaps_rollup: agent ${describeSplit(split.agent)}, bare Node ${describeSplit(split.bare)}; what an idle agent does not use loads on first use (the ACP SDK with the first agent session, chokidar with the first watch, ICU's collation data with the first listing (its time zone data not at all: log and event times are written from the UTC fields), the doctor with its first run, each command's params schema with its first call; replies' and API bodies' schemas are never built (the edge checks replies); BuildKit's gRPC client, image builds' tar-fs, exec/attach streams, the ssh2 transport and zod's 40 locales are left out of the bundle)`,
      details: { samples: rounded, split, agent, bare, collected, collectedBare, heap, agentLifecycle: lifecycle },
    },
    {
      figure: `agent idle RSS at the end of a ${minutes}-minute idle run`,
      value: agent.end,
      baseline: bare.end,
      baselineLabel: "bare Node, same moment",
      unit: "MiB",
      target: { ratioAtMost: 1.3 },
      why: `the agent (as users run it) ended at ${round(agent.end)} MiB against bare Node's ${round(bare.end)} MiB; its steps: ${agentSteps}`,
      note: `both as users run them, read at the run's last sample (the first row is read once settled); the ratio over the run went from ${ratioRange(samples)}; steps of ${STEP_MIB} MiB or more between two samples: the agent ${agentSteps}, bare Node ${steps(samples, "bare")}. Such a step is V8's optimising compiler's first use, which maps its code pages of the node binary: any Node process that runs JavaScript periodically gets there, bare Node's own timers included, so the ratio is read again after both may have (\`--idle-minutes\` lengthens the run)`,
    },
    {
      figure: `agent RSS over a ${minutes}-minute idle run, after a full collection`,
      value: collected.slope,
      unit: "MiB/min",
      display: describe(collected),
      baselineDisplay: `${describe(collectedBare)} (bare Node)`,
      target: { atMost: STABLE_SLOPE_MIB_PER_MIN },
      targetLabel: `stable: growth ≤ ${STABLE_SLOPE_MIB_PER_MIN} MiB/min`,
      why: `even right after full collections it grew from ${round(collected.start)} to ${round(collected.end)} MiB (peak ${round(collected.max)}): memory the agent keeps, not garbage awaiting collection`,
      note: `a second agent (another host, same bundle) started with \`--inspect\`, sampled every ${SAMPLE_EVERY_MS / 1000} s for ${minutes} min (${samples.length} samples), each sample taken right after a full collection forced through the inspector (HeapProfiler.collectGarbage), so the slope (least squares) measures what the agent retains (its JavaScript heap in use: ${describe(heap)}); over the second half of the run alone the slope is ${secondHalf.slope >= 0 ? "+" : ""}${round(secondHalf.slope, 3)} MiB/min; the baseline is an inspected bare Node treated the same way; ${connectedText}; the engine ran ${containersText(samples)} during the run`,
    },
    {
      figure: `agent RSS over a ${minutes}-minute idle run, as it runs`,
      value: agent.slope,
      unit: "MiB/min",
      display: describe(agent),
      baselineDisplay: `${describe(bare)} (bare Node)`,
      note: `the agent as users run it, sampled at the same moments without forcing anything: V8 lets garbage pile up between major collections, so over one window this rises and falls${drop.fall >= 0.5 ? ` (a collection at minute ${round(drop.minute, 1)} gave back ${round(drop.fall)} MiB)` : ""}; the verdict is the row above`,
    },
    {
      figure: "agent bundle size, dist/kai-agent.mjs",
      value: bundleBytes / 1024,
      unit: "KiB",
      note: "`npm run build:agent` (esbuild, minified, one file that needs only Node)",
    },
  ];
}
