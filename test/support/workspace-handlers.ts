import { randomUUID } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { HandlerContext, Handlers } from "../../agent/handlers/types";
import type { Policy } from "../../agent/policy";
import { AgentSessions } from "../../agent/runtime/acp/agent-sessions";
import { createDockerClient } from "../../agent/runtime/docker/client";
import { LiveStats } from "../../agent/runtime/docker/live-stats";
import { REPLIES, type ResultOf } from "../../shared/command-replies";
import { COMMANDS, type Op, type ParamsOf } from "../../shared/commands";

/**
 * Workspace handlers called directly, the way the RPC layer calls them: params parsed
 * with the command table, every chunk and the result checked against its schemas. The
 * allowed root is a temp dir; `outside` sits next to it for things that must stay out of reach.
 */
export interface WorkspaceWorld {
  tmp: string;
  /** The allowed root of the policy and the workspace root (a real path). */
  root: string;
  /** A directory outside the allowed root. */
  outside: string;
  policy: Policy;
  ctx(overrides?: Partial<HandlerContext>): HandlerContext;
  cleanup(): Promise<void>;
}

export async function workspaceWorld(prefix: string): Promise<WorkspaceWorld> {
  const tmp = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), `kai-${prefix}-`)));
  const root = path.join(tmp, "workspace");
  const outside = path.join(tmp, "outside");
  await fs.mkdir(root);
  await fs.mkdir(outside);
  const policy: Policy = { allowedRoots: [root], maxDirectoryEntries: 1000 };
  // Unused by workspace handlers; a client to a socket that is never dialled.
  const docker = createDockerClient({ socketPath: path.join(tmp, "unused.sock") });
  return {
    tmp,
    root,
    outside,
    policy,
    ctx: (overrides = {}) => ({
      requestId: randomUUID(),
      hostId: "test-host",
      policy,
      docker,
      liveStats: new LiveStats(docker),
      agentSessions: new AgentSessions({ profiles: [] }),
      signal: new AbortController().signal,
      emit: () => undefined,
      ...overrides,
    }),
    cleanup: () => fs.rm(tmp, { recursive: true, force: true }),
  };
}

export async function call<O extends Op>(
  handlers: Partial<Handlers>,
  op: O,
  params: ParamsOf<O>,
  ctx: HandlerContext,
): Promise<ResultOf<O>> {
  const handler = handlers[op];
  if (!handler) throw new Error(`no handler for ${op} in this map`);
  const command = COMMANDS[op];
  const reply = REPLIES[op];
  const chunk = "chunk" in reply ? reply.chunk : undefined;
  const checked: HandlerContext = {
    ...ctx,
    emit: (data) => {
      if (!chunk) throw new Error(`${op} is not a streamed command, but it emitted a chunk`);
      ctx.emit(chunk.parse(data));
    },
  };
  const parsed = command.params.parse(params) as ParamsOf<O>;
  // A generic `O` cannot pick its handler's emit type; `checked` has the open one, which fits any.
  return reply.result.parse(await handler(parsed, checked as HandlerContext<O>)) as ResultOf<O>;
}

/** The same assertion helper the service tests use: one definition. */
export { kaiError } from "./service-world";

export async function writeExecutable(file: string, text: string): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, text, { mode: 0o755 });
}
