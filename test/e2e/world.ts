import { mkdtemp, realpath, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import Docker from "dockerode";
import { AgentProcess } from "../support/agent-process";
import { busyboxImage } from "../support/busybox-image";
import { type Edge, startEdge } from "../support/edge-server";
import { type CallResult, enrollHost, request, type Session, signUp } from "../support/kai-client";

/**
 * One end-to-end world: the Worker on local workerd, a signed-up user with an enrolled
 * host, a real kai-agent process for it confined to a temporary root, the real Docker
 * engine, and the busybox test image.
 */
export interface World {
  edge: Edge;
  session: Session;
  host: { id: string; token: string; name: string };
  agent: AgentProcess;
  /** The agent's only allowed root (a real path). */
  root: string;
  docker: Docker;
  image: string;
  api<T = any>(
    path: string,
    init?: { method?: string; body?: unknown; headers?: Record<string, string>; token?: string },
  ): Promise<CallResult<T>>;
  dispose(): Promise<void>;
}

export async function createWorld(
  options: { agentArgs?: string[]; edgeVars?: Record<string, string>; policy?: Record<string, unknown> } = {},
): Promise<World> {
  const docker = new Docker();
  const image = await busyboxImage(docker);
  const edge = await startEdge(options.edgeVars ? { vars: options.edgeVars } : {});
  const session = await signUp(edge.url);
  const host = await enrollHost(session);
  const root = await realpath(await mkdtemp(path.join(os.tmpdir(), "kai-root-")));
  const agent = new AgentProcess(edge.url, host.token, [root], options.agentArgs ?? [], undefined, options.policy);
  await agent.connected();
  return {
    edge,
    session,
    host,
    agent,
    root,
    docker,
    image,
    api: (apiPath, init = {}) => request(edge.url, apiPath, { token: session.token, ...init }),
    async dispose() {
      await agent.stop();
      await edge.stop();
      // Remove whatever this world's host created, whatever a failing test left behind.
      const leftovers = await docker.listContainers({ all: true, filters: { label: [`kai.host=${host.id}`] } });
      await Promise.all(
        leftovers.map((info) =>
          docker
            .getContainer(info.Id)
            .remove({ force: true })
            .catch(() => undefined),
        ),
      );
      await rm(root, { recursive: true, force: true });
    },
  };
}
