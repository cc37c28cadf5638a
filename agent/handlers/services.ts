import type Docker from "dockerode";
import { dockerError, httpStatus } from "../runtime/docker/client";
import { updateContainer } from "../runtime/docker/service-update";
import { serviceVersion, stripSlash, toService, toServiceDetails, toServiceStatus } from "../runtime/docker/services";
import { uptimeSeconds } from "../runtime/docker/stats";
import { inspectAll, inspectService, listAll } from "./service-lookup";
import type { Handler, HandlerContext, Handlers } from "./types";

/**
 * Services: every container of this host's engine, Kai's or not, as the AIKit dashboard
 * API shows them. Stats come from the live stats streams (`ctx.liveStats`), never from a
 * one-shot `docker stats` per container.
 */

const DEFAULT_STOP_TIMEOUT_SECONDS = 10;

/** Sorted by name; `stopped` means every state but running (paused, created, exited, dead…). */
const list: Handler<"service.list"> = async (params, ctx) => {
  const wanted = (await listAll(ctx))
    .filter((info) => params.filter === "all" || (info.State === "running") === (params.filter === "running"))
    .map((info) => ({ id: info.Id, name: stripSlash(info.Names?.[0] ?? "") }))
    .sort((a, b) => a.name.localeCompare(b.name, "en"));
  const page = wanted.slice((params.page - 1) * params.limit, params.page * params.limit);
  // One inspect each (well under a millisecond) for health, start time and restart count.
  const inspected = await inspectAll(ctx, page.map((entry) => entry.id));
  const running = inspected.filter((info) => info.State.Running).map((info) => info.Id);
  const samples = await ctx.liveStats.samples(running, { signal: ctx.signal });
  return { services: inspected.map((info) => toService(info, samples.get(info.Id))), total: wanted.length };
};

const inspect: Handler<"service.inspect"> = async (params, ctx) => {
  const info = await inspectService(ctx, params.id);
  const sample = info.State.Running ? await ctx.liveStats.sample(info.Id, { signal: ctx.signal }) : undefined;
  return toServiceDetails(info, sample);
};

const start: Handler<"service.start"> = (params, ctx) => act(ctx, params.id, (container) => container.start());

const stop: Handler<"service.stop"> = (params, ctx) =>
  act(ctx, params.id, (container) => container.stop({ t: params.timeoutSeconds ?? DEFAULT_STOP_TIMEOUT_SECONDS }));

const restart: Handler<"service.restart"> = (params, ctx) =>
  act(ctx, params.id, (container) => container.restart({ t: params.timeoutSeconds ?? DEFAULT_STOP_TIMEOUT_SECONDS }));

/**
 * `containerId` is the short id of the container serving under the name afterwards,
 * like `Service.containerId`; `version` is the service's version after the update.
 */
const update: Handler<"service.update"> = async (params, ctx) => {
  const info = await inspectService(ctx, params.id);
  const outcome = await updateContainer(ctx.docker, info, { stopTimeoutSeconds: params.timeoutSeconds ?? DEFAULT_STOP_TIMEOUT_SECONDS });
  if (outcome.updated) ctx.liveStats.forget(info.Id);
  const now = outcome.updated ? await inspectService(ctx, outcome.containerId) : info;
  return { containerId: now.Id.slice(0, 12), image: outcome.image, version: serviceVersion(now.Config?.Labels, outcome.image), updated: outcome.updated };
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

/**
 * Runs a lifecycle action and answers the status the engine reports afterwards (a
 * container whose process exits at once is `stopped` right after a start).
 */
async function act(ctx: HandlerContext, ref: string, action: (container: Docker.Container) => Promise<unknown>) {
  const info = await inspectService(ctx, ref);
  try {
    await action(ctx.docker.getContainer(info.Id));
  } catch (error) {
    // 304: already in the wanted state, which is what the caller asked for.
    if (httpStatus(error) !== 304) throw dockerError(error, { notFoundMessage: notFoundMessage(ref) });
  }
  // Its stream would only send zeroed frames now; the next request opens a fresh one.
  ctx.liveStats.forget(info.Id);
  const after = await inspectService(ctx, info.Id, ref);
  return { status: toServiceStatus(after.State.Status) };
}

function notFoundMessage(ref: string): string {
  return `service ${ref} not found on this host`;
}
