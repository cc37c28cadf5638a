import { mkdtemp, realpath, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import Docker from "dockerode";
import { busyboxImage, requireDocker } from "../../test/support/busybox-image";
import { type Edge, migrate, startEdge } from "../../test/support/edge-server";
import { type CallResult, enrollHost, request, type Session, signUp } from "../../test/support/kai-client";
import { BundledAgent } from "./bundled-agent";
import type { Scope } from "./scope";

/**
 * What the edge benchmarks share: the real Worker on local workerd with its state in a temp
 * dir, a signed-up user, enrolled hosts each with a bundled `kai-agent` process, the real
 * Docker engine and the busybox test image. Everything is deferred into the caller's scope.
 */

/**
 * The agent timeout stays at its documented default (the tests' 3 s would turn a slow
 * answer into an error); the API limiter is set out of reach so it never throttles a bench.
 * Agent connects are paced for the bench's fleet as the default pace (50/s after 50) serves
 * a fleet of hundreds: 20 agents here reconnect over about as many seconds as 300 would there.
 */
export const AGENT_CONNECT_PACE = { perSecond: 3, burst: 1 };
const BENCH_VARS = {
  AGENT_TIMEOUT_MS: "30000",
  API_RATE_LIMIT_PER_HOUR: "100000000",
  AGENT_CONNECT_RATE_PER_SECOND: String(AGENT_CONNECT_PACE.perSecond),
  AGENT_CONNECT_BURST: String(AGENT_CONNECT_PACE.burst),
};

interface Host {
  id: string;
  name: string;
  token: string;
}

export interface KaiStack {
  readonly url: string;
  readonly session: Session;
  readonly hosts: Host[];
  readonly agents: BundledAgent[];
  readonly docker: Docker;
  readonly image: string;
  /** The agents' allowed root (a real path). */
  readonly root: string;
  /** workerd's persisted state (D1 and the Durable Objects' SQLite files). */
  readonly stateDir: string;
  /** An API call as the signed-up user, on `host` (default: the first). */
  api<T = any>(apiPath: string, init?: { method?: string; body?: unknown; host?: Host }): Promise<CallResult<T>>;
  /**
   * Stops the edge, waits `downMs`, starts it again on the same port and state, with `vars`
   * over the bench's own until the next restart; times are performance.now().
   */
  restartEdge(
    downMs?: number,
    vars?: Record<string, string>,
  ): Promise<{ stopping: number; stopped: number; ready: number }>;
}

/**
 * `agentNodeArgs[i]`: Node options for host i's agent (e.g. `--inspect=127.0.0.1:0`);
 * `policy`: more of every agent's policy file than its allowed root (agent profiles, say);
 * `direct`: agents and clients use the Worker's own address (Edge.workerUrl), not wrangler's
 * dev proxy in front of it, which production does not have and which pipes every frame
 * through a second workerd. Such a stack cannot restart its edge: the Worker's port changes.
 */
export async function kaiStack(
  scope: Scope,
  options: { hosts?: number; agentNodeArgs?: string[][]; policy?: Record<string, unknown>; direct?: boolean } = {},
): Promise<KaiStack> {
  const docker = new Docker();
  await requireDocker(docker);
  const image = await busyboxImage(docker);

  const persistDir = await mkdtemp(path.join(os.tmpdir(), "kai-bench-state-"));
  scope.defer("edge state dir", () => rm(persistDir, { recursive: true, force: true }));
  await migrate(persistDir);
  let edge: Edge = await startEdge({ persistDir, vars: BENCH_VARS });
  scope.defer("edge (workerd)", () => edge.stop());
  const { port } = edge;
  const url = options.direct ? edge.workerUrl : edge.url;

  const root = await realpath(await mkdtemp(path.join(os.tmpdir(), "kai-bench-root-")));
  scope.defer("agent root", () => rm(root, { recursive: true, force: true }));

  const session = await signUp(url);
  const hosts: Host[] = [];
  for (let index = 0; index < (options.hosts ?? 1); index++) hosts.push(await enrollHost(session));
  scope.defer("containers of the bench hosts", async () => {
    const labels = hosts.map((host) => `kai.host=${host.id}`);
    for (const label of labels) {
      const leftovers = await docker.listContainers({ all: true, filters: { label: [label] } });
      await Promise.all(
        leftovers.map((info) =>
          docker
            .getContainer(info.Id)
            .remove({ force: true })
            .catch(() => undefined),
        ),
      );
    }
  });

  const agents = hosts.map(
    (host, index) => new BundledAgent(url, host.token, root, options.agentNodeArgs?.[index] ?? [], options.policy),
  );
  // Deferred before they start, so a half-started fleet is stopped too; after the edge in
  // the scope, so they stop first and never see it vanish.
  scope.defer("agents", () => Promise.all(agents.map((agent) => agent.stop())));
  // A few at a time: each start is a Node boot on a two-core machine.
  for (let batch = 0; batch < agents.length; batch += 5) {
    await Promise.all(agents.slice(batch, batch + 5).map((agent) => agent.connected(60_000)));
  }

  return {
    url,
    session,
    hosts,
    agents,
    docker,
    image,
    root,
    stateDir: persistDir,
    api: (apiPath, init = {}) => {
      const host = init.host ?? hosts[0];
      return request(url, apiPath, {
        token: session.token,
        ...(init.method ? { method: init.method } : {}),
        body: init.body,
        headers: host ? { "x-kai-host": host.id } : {},
      });
    },
    async restartEdge(downMs = 0, vars = {}) {
      if (options.direct) throw new Error("a direct stack cannot restart its edge: the Worker's own port changes");
      const stopping = performance.now();
      await edge.stop();
      const stopped = performance.now();
      await new Promise((resolve) => setTimeout(resolve, downMs));
      edge = await startEdge({ persistDir, port, vars: { ...BENCH_VARS, ...vars } });
      return { stopping, stopped, ready: performance.now() };
    },
  };
}
