import { randomUUID } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import type Docker from "dockerode";
import { handlers } from "../agent/handlers/index";
import type { HandlerContext } from "../agent/handlers/types";
import { AgentSessions } from "../agent/runtime/acp/agent-sessions";
import { createDockerClient } from "../agent/runtime/docker/client";
import { LiveStats } from "../agent/runtime/docker/live-stats";
import { busyboxImage, requireDocker } from "../test/support/busybox-image";
import type { Benchmark, Figure, RunOptions } from "./run";

/**
 * `service.list` with stats for 50 running containers, against asking Docker for stats one
 * container at a time (`container.stats({stream:false})`, which waits for two readings,
 * about a second each). Both run in the same process against the same containers.
 */

const CONTAINERS = 50;
/** Steady-state list calls measured after the first. */
const LIST_RUNS = 20;
/**
 * The naive baseline takes about a second per container, so it is measured on this many
 * of the 50 (fewer with --quick), one at a time, and scaled to 50 by its mean; the note says so.
 */
const NAIVE_SAMPLES = { full: 10, quick: 4 };
const RESULTS = path.join(import.meta.dirname, "results", "services-stats.json");
const LABEL = "kai-bench.run";

export const benchmark: Benchmark = {
  name: "services-stats",
  order: 4,
  async run({ quick }: RunOptions) {
    const docker = createDockerClient();
    await requireDocker(docker);
    const image = await busyboxImage(docker);
    const run = randomUUID().slice(0, 8);
    const liveStats = new LiveStats(docker);
    const stopOnSignal = () => void cleanup(docker, run, liveStats).finally(() => process.exit(130));
    process.once("SIGINT", stopOnSignal);
    try {
      const ids = await startContainers(docker, image, run);
      return await measure(docker, liveStats, ids, quick ? NAIVE_SAMPLES.quick : NAIVE_SAMPLES.full);
    } finally {
      process.off("SIGINT", stopOnSignal);
      await cleanup(docker, run, liveStats);
    }
  },
};

async function measure(docker: Docker, liveStats: LiveStats, ids: string[], naiveSample: number): Promise<Figure[]> {
  const ctx: HandlerContext = {
    requestId: "bench",
    hostId: "bench",
    policy: { allowedRoots: ["/tmp"], maxDirectoryEntries: 1 },
    docker,
    liveStats,
    agentSessions: new AgentSessions({ profiles: [] }),
    signal: new AbortController().signal,
    emit: () => undefined,
  };
  const list = async () => {
    const started = performance.now();
    const result = await handlers["service.list"]({ filter: "running", limit: 500, page: 1 }, ctx);
    return { ms: performance.now() - started, listed: result.services.length };
  };

  const cold = await list();
  // Warm-up: let every stream deliver a second frame and the JIT settle.
  for (let i = 0; i < 3; i++) await list();
  const steady: number[] = [];
  let listed = 0;
  for (let i = 0; i < LIST_RUNS; i++) {
    const once = await list();
    steady.push(once.ms);
    listed = once.listed;
  }

  // The naive baseline runs without the live streams, so they cannot slow Docker's collector down for it.
  liveStats.stop();
  const naive: number[] = [];
  for (const id of ids.slice(0, naiveSample)) {
    const started = performance.now();
    await docker.getContainer(id).stats({ stream: false });
    naive.push(performance.now() - started);
  }
  const naivePerContainer = mean(naive);
  const naiveFor50 = naivePerContainer * CONTAINERS;

  const parallelStarted = performance.now();
  await Promise.all(ids.map((id) => docker.getContainer(id).stats({ stream: false })));
  const naiveParallel = performance.now() - parallelStarted;

  const steadyMedian = median(steady);
  const results = {
    containers: CONTAINERS,
    listedRunning: listed,
    serviceList: {
      coldMs: round(cold.ms),
      steadyMedianMs: round(steadyMedian),
      steadyP95Ms: round(percentile(steady, 0.95)),
      runs: steady.map(round),
    },
    naiveSequential: {
      measuredContainers: naiveSample,
      perContainerMs: round(naivePerContainer),
      scaledTo50Ms: round(naiveFor50),
      samplesMs: naive.map(round),
    },
    naiveParallelAll50Ms: round(naiveParallel),
    ratioSteadyToNaive: steadyMedian / naiveFor50,
    target: "≤ 0.1× naive",
    measuredAt: new Date().toISOString(),
  };
  await mkdir(path.dirname(RESULTS), { recursive: true });
  await writeFile(RESULTS, `${JSON.stringify(results, null, 2)}\n`);

  const scaled = `naive measured one at a time on ${naiveSample} of the ${CONTAINERS} containers (mean ${round(naivePerContainer)} ms each) and scaled ×${CONTAINERS / naiveSample}`;
  return [
    {
      figure: `service.list, ${CONTAINERS} running, steady state (median of ${LIST_RUNS})`,
      value: steadyMedian,
      baseline: naiveFor50,
      baselineLabel: "Docker one container at a time",
      unit: "ms",
      targetRatio: 0.1,
      note: `the list covered ${listed} running containers (the engine is shared; ≥ ${CONTAINERS}); ${scaled}; results in bench/results/services-stats.json`,
    },
    {
      figure: "service.list, first call (opens the streams)",
      value: cold.ms,
      baseline: naiveFor50,
      baselineLabel: "Docker one container at a time",
      unit: "ms",
      note: "waits once, in parallel, for every container's first complete sample",
    },
    {
      figure: "service.list steady vs naive all 50 in parallel",
      value: steadyMedian,
      baseline: naiveParallel,
      baselineLabel: "Docker all 50 at once",
      unit: "ms",
      note: "a fairer naive: one-shot stats for all 50 at once",
    },
  ];
}

async function startContainers(docker: Docker, image: string, run: string): Promise<string[]> {
  const ids: string[] = [];
  // Ten at a time: two cores, and each start forks a shim.
  for (let batch = 0; batch < CONTAINERS; batch += 10) {
    const made = await Promise.all(
      Array.from({ length: Math.min(10, CONTAINERS - batch) }, async (_, index) => {
        const container = await docker.createContainer({
          name: `kai-bench-${run}-${batch + index}`,
          Image: image,
          Labels: { [LABEL]: run },
        });
        await container.start();
        return container.id;
      }),
    );
    ids.push(...made);
  }
  return ids;
}

async function cleanup(docker: Docker, run: string, liveStats: LiveStats): Promise<void> {
  liveStats.stop();
  const mine = await docker.listContainers({ all: true, filters: { label: [`${LABEL}=${run}`] } });
  await Promise.all(
    mine.map((info) =>
      docker
        .getContainer(info.Id)
        .remove({ force: true })
        .catch(() => undefined),
    ),
  );
}

function mean(values: number[]): number {
  return values.reduce((sum, value) => sum + value, 0) / Math.max(1, values.length);
}

function median(values: number[]): number {
  return percentile(values, 0.5);
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
