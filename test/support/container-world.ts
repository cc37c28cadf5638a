import { randomUUID } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { handlers } from "../../agent/handlers";
import type { HandlerContext } from "../../agent/handlers/types";
import { AgentSessions } from "../../agent/runtime/acp/agent-sessions";
import { createDockerClient } from "../../agent/runtime/docker/client";
import { LiveStats } from "../../agent/runtime/docker/live-stats";
import type { ParamsOf } from "../../shared/commands";
import { busyboxImage, requireDocker } from "./busybox-image";
import type { HandlerWorld } from "./service-world";
import { TEST_LABEL } from "./service-world";
import { call } from "./workspace-handlers";

/** Every container command that takes one container by id or name. */
export const ONE_CONTAINER_OPS = [
  "container.inspect",
  "container.start",
  "container.stop",
  "container.restart",
  "container.remove",
] as const;

/**
 * What the container handler tests share: the real engine, shared with other processes, so
 * every container made here carries this run's host id (Kai's own) or the `kai-test.run`
 * label (plain dockerode), which is what `removeContainers` removes; a policy whose only
 * allowed root is a temp folder; handlers called the way the rpc layer calls them.
 */
export interface ContainerWorld extends HandlerWorld {
  /** The host the handlers act for: Kai labels every container it creates with it. */
  hostId: string;
  tmp: string;
  /** The policy's only allowed root (a real path), inside `tmp`. */
  root: string;
  /** A valid `container.create` of the busybox image with `root` bound at /workspace. */
  createParams(overrides?: Partial<ParamsOf<"container.create">>): ParamsOf<"container.create">;
  /** Removes every container of this run, Kai's and plain ones. */
  removeContainers(): Promise<void>;
  /** Removes the containers and the temp folder. */
  close(): Promise<void>;
}

export async function containerWorld(): Promise<ContainerWorld> {
  const docker = createDockerClient();
  await requireDocker(docker);
  const image = await busyboxImage(docker);
  const liveStats = new LiveStats(docker);
  const run = randomUUID().slice(0, 8);
  const hostId = `test-host-${run}`;
  const tmp = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), "kai-containers-")));
  const root = path.join(tmp, "root");
  await fs.mkdir(root);
  const policy = { allowedRoots: [root], maxDirectoryEntries: 1000 };
  let counter = 0;

  const ctx = (overrides: Partial<HandlerContext> = {}): HandlerContext => ({
    requestId: randomUUID(),
    hostId,
    policy,
    docker,
    liveStats,
    agentSessions: new AgentSessions({ profiles: [] }),
    signal: new AbortController().signal,
    emit: () => undefined,
    ...overrides,
  });
  const name = (what: string) => `kai-test-${run}-${what}-${++counter}`;

  async function removeContainers(): Promise<void> {
    const found = await Promise.all([
      docker.listContainers({ all: true, filters: { label: [`kai.host=${hostId}`] } }),
      docker.listContainers({ all: true, filters: { label: [`${TEST_LABEL}=${run}`] } }),
    ]);
    await Promise.all(
      found.flat().map((info) =>
        docker
          .getContainer(info.Id)
          .remove({ force: true, v: true })
          .catch(() => undefined),
      ),
    );
  }

  return {
    docker,
    run,
    hostId,
    image,
    tmp,
    root,
    ctx,
    call: (op, params, context = ctx()) => call(handlers, op, params, context),
    name,
    createParams: (overrides = {}) => ({
      name: name("c"),
      image,
      hostPath: root,
      containerPath: "/workspace",
      env: {},
      ...overrides,
    }),
    removeContainers,
    async close() {
      liveStats.stop();
      await removeContainers();
      await fs.rm(tmp, { recursive: true, force: true });
    },
  };
}
