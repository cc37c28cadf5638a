import type Docker from "dockerode";
import { dockerError, httpStatus } from "../runtime/docker/client";
import type { HandlerContext } from "./types";

/**
 * Finding a service's container. Services are every container of the engine, so unlike
 * Kai's own containers there is no ownership check: any full id, id prefix or name will do.
 */
export async function inspectService(ctx: HandlerContext, ref: string, shownRef = ref): Promise<Docker.ContainerInspectInfo> {
  try {
    return await ctx.docker.getContainer(ref).inspect({ abortSignal: ctx.signal });
  } catch (error) {
    throw dockerError(error, { notFoundMessage: `service ${shownRef} not found on this host` });
  }
}

/**
 * Inspects each container of a list; one removed since the list was taken is left out.
 * Each inspect takes well under a millisecond, so they do not listen on `ctx.signal` (a
 * hundred listeners on one signal would only trip Node's leak warning); the signal is
 * checked once they are done.
 */
export async function inspectAll(ctx: HandlerContext, ids: readonly string[]): Promise<Docker.ContainerInspectInfo[]> {
  const found = await Promise.all(
    ids.map(async (id) => {
      try {
        return await ctx.docker.getContainer(id).inspect();
      } catch (error) {
        if (httpStatus(error) === 404) return undefined;
        throw dockerError(error);
      }
    }),
  );
  if (ctx.signal.aborted) throw dockerError(ctx.signal.reason);
  return found.filter((info) => info !== undefined);
}

/** Every container of the engine, as `GET /containers/json?all=1` lists it. */
export async function listAll(ctx: HandlerContext): Promise<Docker.ContainerInfo[]> {
  try {
    return await ctx.docker.listContainers({ all: true, abortSignal: ctx.signal });
  } catch (error) {
    throw dockerError(error);
  }
}
