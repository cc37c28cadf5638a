import type Docker from "dockerode";
import { KaiError } from "../../../shared/errors";
import { dockerError, httpStatus } from "./client";

/**
 * The one container core of the agent: finding a container within a scope, its lifecycle
 * (start, stop, restart) and its status. The two APIs over containers are thin views of it:
 * the Flexy API (agent/handlers/containers.ts) sees only Kai's own containers of this host,
 * the services API (agent/handlers/services.ts) every container of the engine.
 */

/** Labels that mark a container as Kai's and record what it was created with. */
export const LABELS = {
  managed: "kai.managed",
  host: "kai.host",
  hostPath: "kai.hostPath",
  containerPath: "kai.containerPath",
} as const;

/**
 * Which containers a lookup may find: those Kai manages on this host (`kai`), or any
 * container of the engine (`any`). Outside its scope a container answers exactly like one
 * that does not exist, so its existence is not confirmed.
 */
export type ContainerScope = { kind: "kai"; hostId: string } | { kind: "any" };

export const ANY_CONTAINER: ContainerScope = { kind: "any" };

export function kaiContainersOf(hostId: string): ContainerScope {
  return { kind: "kai", hostId };
}

export function inScope(labels: Record<string, string> | null | undefined, scope: ContainerScope): boolean {
  return scope.kind === "any" || (labels?.[LABELS.managed] === "true" && labels[LABELS.host] === scope.hostId);
}

export interface LookupOptions {
  signal?: AbortSignal;
  /** The CONTAINER_NOT_FOUND message, in the words of the API that asked. */
  notFoundMessage: string;
}

/** Inspects `ref` (a full id, an id prefix or a name) and returns it only if it is in `scope`. */
export async function findContainer(
  docker: Docker,
  ref: string,
  scope: ContainerScope,
  options: LookupOptions,
): Promise<Docker.ContainerInspectInfo> {
  let info: Docker.ContainerInspectInfo;
  try {
    info = await docker.getContainer(ref).inspect(options.signal ? { abortSignal: options.signal } : {});
  } catch (error) {
    throw dockerError(error, { notFoundMessage: options.notFoundMessage });
  }
  if (!inScope(info.Config?.Labels, scope)) throw new KaiError("CONTAINER_NOT_FOUND", options.notFoundMessage);
  return info;
}

/**
 * Every container in `scope`, as `GET /containers/json?all=1` lists them; `filters` are
 * Docker's own (e.g. `status`). For Kai's scope the engine filters by label, and the labels
 * are checked again here: it costs nothing and keeps the rule in one place.
 */
export async function listContainers(
  docker: Docker,
  scope: ContainerScope,
  options: { signal?: AbortSignal; filters?: Record<string, string[]> } = {},
): Promise<Docker.ContainerInfo[]> {
  const filters = { ...options.filters, ...(scope.kind === "kai" ? { label: ownerLabels(scope.hostId) } : {}) };
  let infos: Docker.ContainerInfo[];
  try {
    infos = await docker.listContainers({
      all: true,
      ...(Object.keys(filters).length > 0 ? { filters } : {}),
      ...(options.signal ? { abortSignal: options.signal } : {}),
    });
  } catch (error) {
    throw dockerError(error);
  }
  return infos.filter((info) => inScope(info.Labels, scope));
}

/**
 * Inspects each container of a list; one removed since the list was taken is left out.
 * Each inspect takes well under a millisecond, so they do not listen on `signal` (a hundred
 * listeners on one signal would only trip Node's leak warning); the signal is checked once
 * they are done.
 */
export async function inspectEach(
  docker: Docker,
  ids: readonly string[],
  signal: AbortSignal,
): Promise<Docker.ContainerInspectInfo[]> {
  const found = await Promise.all(
    ids.map(async (id) => {
      try {
        return await docker.getContainer(id).inspect();
      } catch (error) {
        if (httpStatus(error) === 404) return undefined;
        throw dockerError(error);
      }
    }),
  );
  if (signal.aborted) throw dockerError(signal.reason);
  return found.filter((info) => info !== undefined);
}

export interface LifecycleOptions extends LookupOptions {
  /**
   * Turns a refusal of the engine into the API's own error; undefined leaves it to
   * `dockerError`. (The Flexy API names port conflicts and bad binds; services do not.)
   */
  refusal?: (error: unknown) => KaiError | undefined;
}

export function startContainer(docker: Docker, ref: string, scope: ContainerScope, options: LifecycleOptions) {
  return changeContainer(docker, ref, scope, options, (container) => container.start());
}

export function stopContainer(
  docker: Docker,
  ref: string,
  scope: ContainerScope,
  timeoutSeconds: number,
  options: LifecycleOptions,
) {
  return changeContainer(docker, ref, scope, options, (container) => container.stop({ t: timeoutSeconds }));
}

export function restartContainer(
  docker: Docker,
  ref: string,
  scope: ContainerScope,
  timeoutSeconds: number,
  options: LifecycleOptions,
) {
  return changeContainer(docker, ref, scope, options, (container) => container.restart({ t: timeoutSeconds }));
}

/**
 * Finds the container, runs one lifecycle action and answers the container as the engine
 * reports it afterwards: one whose process exits at once is `stopped` right after a start,
 * and the caller should see that.
 */
async function changeContainer(
  docker: Docker,
  ref: string,
  scope: ContainerScope,
  options: LifecycleOptions,
  action: (container: Docker.Container) => Promise<unknown>,
): Promise<Docker.ContainerInspectInfo> {
  const info = await findContainer(docker, ref, scope, options);
  try {
    await action(docker.getContainer(info.Id));
  } catch (error) {
    // 304: already in the wanted state, which is what the caller asked for.
    if (httpStatus(error) !== 304) {
      throw options.refusal?.(error) ?? dockerError(error, { notFoundMessage: options.notFoundMessage });
    }
  }
  return findContainer(docker, info.Id, scope, options);
}

/**
 * Docker's container states as one status word: `exited` and anything a future engine adds
 * is `stopped` (the container is not running); `dead` stays `dead` (the engine failed to
 * remove or clean it up). Each API narrows these to its own words.
 */
export type EngineStatus = "running" | "paused" | "restarting" | "created" | "removing" | "dead" | "stopped";

export function engineStatus(state: string): EngineStatus {
  switch (state) {
    case "running":
    case "paused":
    case "restarting":
    case "created":
    case "removing":
    case "dead":
      return state;
    default:
      return "stopped";
  }
}

/** The status of a container as inspected (`State.Status`) or listed (`State`). */
export function statusOf(
  info: Pick<Docker.ContainerInspectInfo, "State"> | Pick<Docker.ContainerInfo, "State">,
): EngineStatus {
  return engineStatus(typeof info.State === "string" ? info.State : info.State.Status);
}

/** A container's name without the leading slash Docker keeps. */
export function stripSlash(name: string): string {
  return name.startsWith("/") ? name.slice(1) : name;
}

function ownerLabels(hostId: string): string[] {
  return [`${LABELS.managed}=true`, `${LABELS.host}=${hostId}`];
}
