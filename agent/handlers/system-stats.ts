import type Docker from "dockerode";
import type { ResultOf } from "../../shared/command-replies";
import { ANY_CONTAINER, inspectEach, listContainers } from "../runtime/docker/containers";
import type { Handler } from "./types";

type SystemStats = ResultOf<"system.stats">;

/**
 * Exit codes of a container that was stopped on purpose: 137 (SIGKILL: `docker kill`, or
 * `docker stop` after its timeout) and 143 (SIGTERM: `docker stop`). Such an exit is not
 * an error of the service.
 */
const DELIBERATE_EXIT_CODES = new Set([0, 137, 143]);

/**
 * `system.stats` over every container of the engine:
 * - services: `total`; `running` (state running); `stopped` = total − running.
 * - resources, over running containers with a live sample: `avgCpu` and `avgMemory` are the
 *   means of their CPU and memory percents; `totalMemoryUsage` is the sum of their memory
 *   use in bytes (page cache excluded). All 0 when nothing runs.
 * - health: `warnings` = containers whose health check says unhealthy + containers
 *   restarting; `errors` = dead containers + exited containers whose last exit was a
 *   failure (a code other than 0, 137 or 143, killed by the OOM killer, or not started
 *   because of an engine error). `status` is `unhealthy` when there is an error,
 *   `degraded` when there is only a warning, else `healthy`.
 */
export const systemStats: Handler<"system.stats"> = async (_params, ctx) => {
  const all = await listContainers(ctx.docker, ANY_CONTAINER, { signal: ctx.signal });
  const inspected = await inspectEach(
    ctx.docker,
    all.map((info) => info.Id),
    ctx.signal,
  );
  const running = inspected.filter((info) => info.State.Running).map((info) => info.Id);
  const samples = [...(await ctx.liveStats.samples(running, { signal: ctx.signal })).values()];
  return {
    services: { total: inspected.length, running: running.length, stopped: inspected.length - running.length },
    resources: {
      avgCpu: round2(mean(samples.map((sample) => sample.cpu))),
      avgMemory: round2(mean(samples.map((sample) => sample.memory))),
      totalMemoryUsage: samples.reduce((sum, sample) => sum + sample.memoryUsage, 0),
    },
    health: healthOf(inspected),
  };
};

export function healthOf(containers: Array<Pick<Docker.ContainerInspectInfo, "State">>): SystemStats["health"] {
  let warnings = 0;
  let errors = 0;
  for (const { State: state } of containers) {
    if (state.Health?.Status === "unhealthy" || state.Restarting) warnings += 1;
    if (state.Dead || state.Status === "dead" || (state.Status === "exited" && failedExit(state))) errors += 1;
  }
  return { status: errors > 0 ? "unhealthy" : warnings > 0 ? "degraded" : "healthy", warnings, errors };
}

function failedExit(state: Docker.ContainerInspectInfo["State"]): boolean {
  return state.OOMKilled || Boolean(state.Error) || !DELIBERATE_EXIT_CODES.has(state.ExitCode);
}

function mean(values: number[]): number {
  return values.length === 0 ? 0 : values.reduce((sum, value) => sum + value, 0) / values.length;
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
