import type Docker from "dockerode";
import { STOP_GRACE_DEFAULT_SECONDS } from "../../shared/commands";
import {
  ANY_CONTAINER,
  inspectEach,
  listContainers,
  restartContainer,
  startContainer,
  statusOf,
  stopContainer,
  stripSlash,
} from "../runtime/docker/containers";
import { updateContainer } from "../runtime/docker/service-update";
import { serviceVersion, toService, toServiceDetails } from "../runtime/docker/services";
import { uptimeSeconds } from "../runtime/docker/stats";
import { inspectService, serviceNotFound } from "./service-lookup";
import type { Handler, HandlerContext, Handlers } from "./types";

/**
 * Services: every container of this host's engine, Kai's or not, as the AIKit dashboard
 * API shows them: a view over the container core (runtime/docker/containers.ts) with the
 * scope "any container". Stats come from the live stats streams (`ctx.liveStats`), never from a
 * one-shot `docker stats` per container.
 */

/**
 * Sorted by name; `stopped` means every state but running (paused, created, exited, dead…).
 * The page is chosen from one list and shown from one inspect each: a container whose state
 * changed between the two reads (another client started or stopped it) no longer matches the
 * filter and is left out, so every service answered has the status that was asked for.
 */
const list: Handler<"service.list"> = async (params, ctx) => {
  const matches = (info: Parameters<typeof statusOf>[0]) =>
    params.filter === "all" || (statusOf(info) === "running") === (params.filter === "running");
  const wanted = (await listContainers(ctx.docker, ANY_CONTAINER, { signal: ctx.signal }))
    .filter(matches)
    .map((info) => ({ id: info.Id, name: stripSlash(info.Names?.[0] ?? "") }))
    .sort((a, b) => a.name.localeCompare(b.name, "en"));
  const page = wanted.slice((params.page - 1) * params.limit, params.page * params.limit);
  // One inspect each (well under a millisecond) for health, start time and restart count.
  const inspected = (
    await inspectEach(
      ctx.docker,
      page.map((entry) => entry.id),
      ctx.signal,
    )
  ).filter(matches);
  const running = inspected.filter((info) => info.State.Running).map((info) => info.Id);
  const samples = await ctx.liveStats.samples(running, { signal: ctx.signal });
  // What left the page between the reads (changed state, or removed) is not counted either.
  const total = wanted.length - (page.length - inspected.length);
  return { services: inspected.map((info) => toService(info, samples.get(info.Id))), total };
};

const inspect: Handler<"service.inspect"> = async (params, ctx) => {
  const info = await inspectService(ctx, params.id);
  const sample = info.State.Running ? await ctx.liveStats.sample(info.Id, { signal: ctx.signal }) : undefined;
  return toServiceDetails(info, sample);
};

/** Each answers the status the engine reports afterwards (a container that exits at once is `stopped`). */
const start: Handler<"service.start"> = async (params, ctx) =>
  lifecycleAnswer(ctx, await startContainer(ctx.docker, params.id, ANY_CONTAINER, lookup(ctx, params.id)));

const stop: Handler<"service.stop"> = async (params, ctx) => {
  const timeout = params.timeoutSeconds ?? STOP_GRACE_DEFAULT_SECONDS;
  const after = await stopContainer(ctx.docker, params.id, ANY_CONTAINER, timeout, lookup(ctx, params.id));
  return lifecycleAnswer(ctx, after);
};

const restart: Handler<"service.restart"> = async (params, ctx) => {
  const timeout = params.timeoutSeconds ?? STOP_GRACE_DEFAULT_SECONDS;
  const after = await restartContainer(ctx.docker, params.id, ANY_CONTAINER, timeout, lookup(ctx, params.id));
  return lifecycleAnswer(ctx, after);
};

/**
 * `containerId` is the short id of the container serving under the name afterwards,
 * like `Service.containerId`; `version` is the service's version after the update.
 */
const update: Handler<"service.update"> = async (params, ctx) => {
  const info = await inspectService(ctx, params.id);
  const outcome = await updateContainer(ctx.docker, info, {
    stopTimeoutSeconds: params.timeoutSeconds ?? STOP_GRACE_DEFAULT_SECONDS,
  });
  if (outcome.updated) ctx.liveStats.forget(info.Id);
  const now = outcome.updated ? await inspectService(ctx, outcome.containerId) : info;
  return {
    containerId: now.Id.slice(0, 12),
    image: outcome.image,
    version: serviceVersion(now.Config?.Labels, outcome.image),
    updated: outcome.updated,
  };
};

/** A container that is not running answers zeros, with the time of the answer. */
const stats: Handler<"service.stats"> = async (params, ctx) => {
  const info = await inspectService(ctx, params.id);
  const sample = info.State.Running ? await ctx.liveStats.sample(info.Id, { signal: ctx.signal }) : undefined;
  return {
    cpu: sample?.cpu ?? 0,
    memory: sample?.memory ?? 0,
    memoryUsage: sample?.memoryUsage ?? 0,
    memoryLimit: sample?.memoryLimit ?? 0,
    uptime: uptimeSeconds(info.State),
    restartCount: info.RestartCount ?? 0,
    timestamp: sample ? new Date(Date.parse(sample.read)).toISOString() : new Date().toISOString(),
  };
};

export const serviceHandlers = {
  "service.list": list,
  "service.inspect": inspect,
  "service.start": start,
  "service.stop": stop,
  "service.restart": restart,
  "service.update": update,
  "service.stats": stats,
} satisfies Pick<Handlers, Exclude<Extract<keyof Handlers, `service.${string}`>, `service.logs${string}`>>;

function lookup(ctx: HandlerContext, ref: string) {
  return { signal: ctx.signal, notFoundMessage: serviceNotFound(ref) };
}

function lifecycleAnswer(ctx: HandlerContext, after: Docker.ContainerInspectInfo) {
  // Its stats stream would only send zeroed frames now; the next request opens a fresh one.
  ctx.liveStats.forget(after.Id);
  return { status: statusOf(after) };
}
