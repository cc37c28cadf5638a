import { randomUUID } from "node:crypto";
import type Docker from "dockerode";
import { expect } from "vitest";
import { handlers } from "../../agent/handlers";
import type { HandlerContext } from "../../agent/handlers/types";
import { AgentSessions } from "../../agent/runtime/acp/agent-sessions";
import { createDockerClient } from "../../agent/runtime/docker/client";
import { LiveStats } from "../../agent/runtime/docker/live-stats";
import { REPLIES, type ResultOf } from "../../shared/command-replies";
import { COMMANDS, type Op, type ParamsOf } from "../../shared/commands";
import { KaiError } from "../../shared/errors";
import { busyboxImage, requireDocker } from "./busybox-image";

/**
 * What the service tests share: a real engine (shared with other processes, so every
 * container carries this run's label and every image this run's repository), a real
 * LiveStats, and handlers called the way the rpc layer calls them.
 */
/** What every handler test world offers: the real engine, this run's id, and handlers called as the rpc layer calls them. */
export interface HandlerWorld {
  docker: Docker;
  run: string;
  /** `kai-test-busybox:<hash>`, whose CMD is `sleep 86400`. */
  image: string;
  ctx(overrides?: Partial<HandlerContext>): HandlerContext;
  /** Params and result checked against the command table, as the rpc layer does. */
  call<O extends Op>(op: O, params: ParamsOf<O>, context?: HandlerContext): Promise<ResultOf<O>>;
  /** A unique container name of this run. */
  name(what: string): string;
}

export interface ServiceWorld extends HandlerWorld {
  liveStats: LiveStats;
  /** Creates (and by default starts) a labelled container with plain dockerode. */
  container(
    options: Partial<Docker.ContainerCreateOptions> & { start?: boolean },
  ): Promise<Docker.ContainerInspectInfo>;
  /** Commits a container of `base` that ran `setup` as image `repoTag`, with Dockerfile-style `changes`. */
  deriveImage(base: string, repoTag: string, changes: string[], setup?: string): Promise<string>;
  /** Runs `script` with sh in a running container and returns what it printed. */
  exec(id: string, script: string): Promise<string>;
  /** An image repository of this run, e.g. `kai-test-svc-1a2b3c4d`. */
  repository: string;
  cleanup(): Promise<void>;
}

export const TEST_LABEL = "kai-test.run";

export async function serviceWorld(what: string): Promise<ServiceWorld> {
  const docker = createDockerClient();
  await requireDocker(docker);
  const image = await busyboxImage(docker);
  const run = randomUUID().slice(0, 8);
  const liveStats = new LiveStats(docker);
  let counter = 0;
  const repository = `kai-test-${what}-${run}`;

  const ctx = (overrides: Partial<HandlerContext> = {}): HandlerContext => ({
    requestId: randomUUID(),
    hostId: `test-host-${run}`,
    policy: { allowedRoots: ["/tmp"], maxDirectoryEntries: 100 },
    docker,
    liveStats,
    agentSessions: new AgentSessions({ profiles: [] }),
    signal: new AbortController().signal,
    emit: () => undefined,
    ...overrides,
  });

  const world: ServiceWorld = {
    docker,
    run,
    image,
    liveStats,
    repository,
    ctx,
    async call(op, params, context = ctx()) {
      const parsed = COMMANDS[op].params.parse(params) as ParamsOf<typeof op>;
      const result = await handlers[op](parsed, context as HandlerContext<typeof op>);
      return REPLIES[op].result.parse(result) as ResultOf<typeof op>;
    },
    name: (label) => `kai-test-${what}-${run}-${label}-${++counter}`,
    async container({ start = true, ...options }) {
      const created = await docker.createContainer({
        Image: image,
        name: world.name("c"),
        ...options,
        Labels: { ...options.Labels, [TEST_LABEL]: run },
      });
      if (start) await created.start();
      return created.inspect();
    },
    async deriveImage(base, repoTag, changes, setup = "true") {
      const builder = await docker.createContainer({
        Image: base,
        Cmd: ["/bin/sh", "-c", setup],
        Labels: { [TEST_LABEL]: run },
      });
      await builder.start();
      await builder.wait();
      // Committed under a tag of its own too, so cleanup finds it after `repoTag` moves on.
      const own = `derived-${++counter}`;
      await builder.commit({ repo: repository, tag: own, changes });
      await builder.remove({ force: true });
      const [repo = repoTag, tag = "latest"] = repoTag.split(":");
      await docker.getImage(`${repository}:${own}`).tag({ repo, tag });
      return (await docker.getImage(repoTag).inspect()).Id;
    },
    async exec(id, script) {
      // A TTY: one plain stream, nothing to demultiplex.
      const exec = await docker
        .getContainer(id)
        .exec({ Cmd: ["/bin/sh", "-c", script], AttachStdout: true, AttachStderr: true, Tty: true });
      const stream = await exec.start({ hijack: true, stdin: false, Tty: true });
      const chunks: Buffer[] = [];
      await new Promise((resolve, reject) => {
        stream.on("data", (chunk: Buffer) => chunks.push(chunk));
        stream.on("end", resolve);
        stream.on("error", reject);
      });
      return Buffer.concat(chunks).toString("utf8").replaceAll("\r\n", "\n");
    },
    async cleanup() {
      liveStats.stop();
      const containers = await docker.listContainers({ all: true, filters: { label: [`${TEST_LABEL}=${run}`] } });
      // An update mounts a service's anonymous volumes again by name, and `v: true` spares
      // named volumes: so every volume these containers used is removed explicitly.
      const volumes = containers.flatMap((info) =>
        info.Mounts.filter((mount) => mount.Type === "volume" && mount.Name).map((mount) => mount.Name ?? ""),
      );
      await Promise.all(
        containers.map((info) =>
          docker
            .getContainer(info.Id)
            .remove({ force: true, v: true })
            .catch(() => undefined),
        ),
      );
      await Promise.all(
        volumes.map((volume) =>
          docker
            .getVolume(volume)
            .remove()
            .catch(() => undefined),
        ),
      );
      // By tag, never by id: a tag of this run may point at the shared busybox image, which
      // must only lose that tag. An image whose last tag goes is deleted with it.
      const images = await docker.listImages({ filters: { reference: [repository] } });
      const tags = images.flatMap((found) => found.RepoTags ?? []).filter((tag) => tag.startsWith(`${repository}:`));
      for (const tag of tags)
        await docker
          .getImage(tag)
          .remove()
          .catch(() => undefined);
    },
  };
  return world;
}

export async function kaiError(promise: Promise<unknown>): Promise<KaiError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(KaiError);
    return error as KaiError;
  }
  throw new Error("expected a KaiError, but the call succeeded");
}

/** The engine's own view, or null when it has no such container. */
export async function engineInspect(docker: Docker, ref: string): Promise<Docker.ContainerInspectInfo | null> {
  try {
    return await docker.getContainer(ref).inspect();
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return null;
    throw error;
  }
}
