import type Docker from "dockerode";
import type { ParamsOf } from "../../shared/commands";
import { STOP_GRACE_DEFAULT_SECONDS } from "../../shared/commands";
import { KaiError } from "../../shared/errors";
import { containerPathProblem } from "../../shared/schemas/command-params";
import type { FlexyContainer } from "../../shared/schemas/flexy";
import { checkContainerSecurity } from "../policy";
import { dockerError, httpStatus } from "../runtime/docker/client";
import {
  type ContainerScope,
  findContainer,
  kaiContainersOf,
  LABELS,
  listContainers,
  restartContainer,
  startContainer,
  stopContainer,
} from "../runtime/docker/containers";
import { toContainerStatus, toFlexyContainer, toFlexyContainerDetails } from "../runtime/docker/flexy-containers";
import { confinePath } from "../runtime/fs/confine-path";
import { requireDirectory } from "./directories";
import type { Handler, HandlerContext, Handlers } from "./types";

/**
 * Kai's containers: a view over the container core (runtime/docker/containers.ts) that sees
 * only the containers Kai manages on this host, and shows them in the Flexy API's shapes.
 */

/** The Kai API's `stopped` covers every Docker state of a container that is not running. */
const STATUS_FILTER = { running: ["running"], stopped: ["created", "exited", "dead"], paused: ["paused"] } as const;
/** Labels only the agent writes: a request must not be able to re-home or un-manage a container. */
const RESERVED_LABELS: readonly string[] = Object.values(LABELS);

const list: Handler<"container.list"> = async (params, ctx) => {
  const states: readonly string[] | undefined = params.status ? STATUS_FILTER[params.status] : undefined;
  const indexed = await ctx.containerIndex?.list(scopeOf(ctx));
  // The index holds what Docker's own status filter would match on: each container's State.
  const owned = indexed
    ? indexed.filter((info) => !states || states.includes(info.State))
    : await listContainers(ctx.docker, scopeOf(ctx), {
        filters: states ? { status: [...states] } : {},
        signal: ctx.signal,
      });
  owned.sort((a, b) => b.Created - a.Created);
  return {
    containers: owned.slice(params.offset, params.offset + params.limit).map(toFlexyContainer),
    total: owned.length,
  };
};

/**
 * Every refusal happens before the first Docker call, so a request the policy rejects never
 * reaches the engine.
 */
const create: Handler<"container.create"> = async (params, ctx) => {
  const security = params.security ?? {};
  checkContainerSecurity(security);
  checkLabels(params.labels ?? {});
  checkEnv(params.env);
  checkContainerPath(params.containerPath);
  const hostPath = await confinePath(ctx.policy, params.hostPath);
  // Must exist: with `Binds` Docker would create it as root, with `Mounts` it fails late.
  await requireDirectory(hostPath, params.hostPath);
  await requireImage(ctx.docker, params.image);

  const ports = portBindings(params.ports ?? []);
  let container: Docker.Container;
  try {
    container = await ctx.docker.createContainer({
      name: params.name,
      Image: params.image,
      Env: Object.entries(params.env).map(([key, value]) => `${key}=${value}`),
      Labels: {
        ...params.labels,
        [LABELS.managed]: "true",
        [LABELS.host]: ctx.hostId,
        [LABELS.hostPath]: hostPath,
        [LABELS.containerPath]: params.containerPath,
      },
      ExposedPorts: ports.exposed,
      // Built field by field from checked values: nothing here can grant host powers.
      HostConfig: {
        Mounts: [{ Type: "bind", Source: hostPath, Target: params.containerPath, ReadOnly: false }],
        PortBindings: ports.bindings,
        ...(security.networkMode ? { NetworkMode: security.networkMode } : {}),
        ...(security.ipcMode ? { IpcMode: security.ipcMode } : {}),
        ...(security.pidMode ? { PidMode: security.pidMode } : {}),
        ...(security.utsMode ? { UTSMode: security.utsMode } : {}),
        ...(security.usernsMode ? { UsernsMode: security.usernsMode } : {}),
        ...(security.securityOpt?.length ? { SecurityOpt: security.securityOpt } : {}),
      },
    });
  } catch (error) {
    // The image can vanish between the check and the create.
    if (httpStatus(error) === 404) throw imageMissing(params.image);
    // 400 is Docker's "invalid parameter": something in the request, never the engine failing.
    if (httpStatus(error) === 400)
      throw new KaiError("VALIDATION_ERROR", `Docker refused the container's settings: ${dockerError(error).message}`);
    throw dockerError(error);
  }
  return summary(await inspectOwned(ctx, container.id));
};

const inspect: Handler<"container.inspect"> = async (params, ctx) =>
  toFlexyContainerDetails(await inspectOwned(ctx, params.id));

const remove: Handler<"container.remove"> = async (params, ctx) => {
  const info = await inspectOwned(ctx, params.id);
  try {
    // force: a running container is killed first; v: its anonymous volumes go with it.
    await ctx.docker.getContainer(info.Id).remove({ force: true, v: true });
  } catch (error) {
    throw dockerError(error, { notFoundMessage: notFoundMessage(params.id) });
  }
  return { id: info.Id };
};

/** Each answers the status the engine reports afterwards (a container that exits at once is `stopped`). */
const start: Handler<"container.start"> = async (params, ctx) =>
  lifecycleAnswer(await startContainer(ctx.docker, params.id, scopeOf(ctx), lifecycleOptions(ctx, params.id)));

const stop: Handler<"container.stop"> = async (params, ctx) => {
  const timeout = params.timeoutSeconds ?? STOP_GRACE_DEFAULT_SECONDS;
  return lifecycleAnswer(
    await stopContainer(ctx.docker, params.id, scopeOf(ctx), timeout, lifecycleOptions(ctx, params.id)),
  );
};

const restart: Handler<"container.restart"> = async (params, ctx) => {
  const timeout = params.timeoutSeconds ?? STOP_GRACE_DEFAULT_SECONDS;
  return lifecycleAnswer(
    await restartContainer(ctx.docker, params.id, scopeOf(ctx), timeout, lifecycleOptions(ctx, params.id)),
  );
};

export const containerHandlers = {
  "container.list": list,
  "container.create": create,
  "container.inspect": inspect,
  "container.remove": remove,
  "container.start": start,
  "container.stop": stop,
  "container.restart": restart,
} satisfies Pick<Handlers, Extract<keyof Handlers, `container.${string}`>>;

function scopeOf(ctx: HandlerContext): ContainerScope {
  return kaiContainersOf(ctx.hostId);
}

/**
 * Inspects `ref` and returns it only if it is a Kai container of this host. Anything else
 * answers exactly like a container that does not exist, so its existence is not confirmed.
 */
function inspectOwned(ctx: HandlerContext, ref: string): Promise<Docker.ContainerInspectInfo> {
  return findContainer(ctx.docker, ref, scopeOf(ctx), { signal: ctx.signal, notFoundMessage: notFoundMessage(ref) });
}

function lifecycleOptions(ctx: HandlerContext, ref: string) {
  return { signal: ctx.signal, notFoundMessage: notFoundMessage(ref), refusal: startMistake };
}

function lifecycleAnswer(after: Docker.ContainerInspectInfo) {
  return { id: after.Id, status: toContainerStatus(after.State.Status) };
}

function summary(info: Docker.ContainerInspectInfo): FlexyContainer {
  const { ports: _ports, volumes: _volumes, ...container } = toFlexyContainerDetails(info);
  return container;
}

/**
 * A start the engine refuses because of what the container was created with, or of the
 * host's state since: the caller's to fix, not an engine failure.
 */
function startMistake(error: unknown): KaiError | undefined {
  const message = dockerError(error).message;
  if (/port is already allocated|address already in use/i.test(message)) {
    const port = /:(\d+)(?: failed|: bind)/.exec(message)?.[1];
    return new KaiError(
      "CONFLICT",
      `host port ${port ?? "(one of its ports)"} is already in use on this host; free it, or remove the container and create it with another hostPort (0 lets Docker pick)`,
    );
  }
  // 400 is Docker's "invalid parameter", e.g. "bind source path does not exist" once the directory is gone.
  if (httpStatus(error) === 400)
    return new KaiError("VALIDATION_ERROR", `Docker cannot start the container: ${message}`);
  return undefined;
}

function notFoundMessage(ref: string): string {
  return `container ${ref} not found on this host`;
}

function checkLabels(labels: Record<string, string>): void {
  const reserved = Object.keys(labels).filter((key) => RESERVED_LABELS.includes(key));
  if (reserved.length > 0)
    throw new KaiError("VALIDATION_ERROR", `labels ${reserved.join(", ")} are set by the agent and cannot be given`);
}

function checkEnv(env: Record<string, string>): void {
  // `A=B` as a name would silently set A; NUL cannot cross the Docker API.
  const bad = Object.keys(env).filter((key) => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(key));
  if (bad.length > 0) throw new KaiError("VALIDATION_ERROR", `invalid environment variable names: ${bad.join(", ")}`);
  if (Object.values(env).some((value) => value.includes("\0")))
    throw new KaiError("VALIDATION_ERROR", "environment values must not contain NUL");
}

/** The agent's own check: the command table takes any absolute path, whatever the edge checked. */
function checkContainerPath(value: string): void {
  const problem = containerPathProblem(value);
  if (problem)
    throw new KaiError("VALIDATION_ERROR", `invalid containerPath ${JSON.stringify(value)}: ${problem}`, {
      details: { fields: { containerPath: [problem] } },
    });
}

/** Kai never pulls: the image must already be on this host. */
async function requireImage(docker: Docker, image: string): Promise<void> {
  try {
    await docker.getImage(image).inspect();
  } catch (error) {
    if (httpStatus(error) === 404) throw imageMissing(image);
    // e.g. "invalid reference format: repository name must be lowercase".
    if (httpStatus(error) === 400) {
      throw new KaiError(
        "VALIDATION_ERROR",
        `image ${image} is not a valid image reference: ${dockerError(error).message.replace(/^.*invalid reference format/i, "invalid reference format")}`,
        {
          details: { fields: { image: ["invalid reference format"] } },
        },
      );
    }
    throw dockerError(error);
  }
}

/**
 * A request naming an image this host does not have is the caller's to fix (pull or build
 * it there), not an engine failure: VALIDATION_ERROR, one of the Kai API's documented codes.
 */
function imageMissing(image: string): KaiError {
  return new KaiError(
    "VALIDATION_ERROR",
    `image ${image} is not on this host, and Kai does not pull images: pull or build it on the host first (\`docker pull ${image}\`; \`docker images\` lists what the host has)`,
    {
      details: { fields: { image: ["not on this host"] } },
    },
  );
}

/** Ports are published on 127.0.0.1 only; hostPort 0 or omitted lets Docker pick a free one. */
function portBindings(ports: NonNullable<ParamsOf<"container.create">["ports"]>) {
  const exposed: Record<string, Record<string, never>> = {};
  const bindings: Record<string, Array<{ HostIp: string; HostPort: string }>> = {};
  for (const { containerPort, hostPort } of ports) {
    const key = `${containerPort}/tcp`;
    exposed[key] = {};
    (bindings[key] ??= []).push({ HostIp: "127.0.0.1", HostPort: hostPort ? String(hostPort) : "" });
  }
  return { exposed, bindings };
}
