import type Docker from "dockerode";
import { ANY_CONTAINER, findContainer } from "../runtime/docker/containers";
import type { HandlerContext } from "./types";

/**
 * Finding a service's container. Services are every container of the engine, so unlike
 * Kai's own containers there is no ownership check: any full id, id prefix or name will do.
 */
export function inspectService(ctx: HandlerContext, ref: string, shownRef = ref): Promise<Docker.ContainerInspectInfo> {
  const options = { signal: ctx.signal, notFoundMessage: serviceNotFound(shownRef) };
  return findContainer(ctx.docker, ref, ANY_CONTAINER, options);
}

export function serviceNotFound(ref: string): string {
  return `service ${ref} not found on this host`;
}
