import { deadlineOf } from "../../shared/commands";
import { workspaceRoot } from "../runtime/fs/workspace-paths";
import type { Handlers } from "./types";

/**
 * Agent sessions (agent/runtime/acp/agent-sessions.ts holds them). Only `start` touches the
 * file system: the agent runs in the workspace root, confined by the policy like every
 * workspace handler; the profile is the host owner's, the edge only names it.
 */
export const agentSessionHandlers: Pick<
  Handlers,
  | "agentSession.start"
  | "agentSession.prompt"
  | "agentSession.cancel"
  | "agentSession.answer"
  | "agentSession.close"
  | "agentSession.sync"
> = {
  "agentSession.start": async (params, ctx) => {
    const cwd = await workspaceRoot(ctx.policy, params.root);
    // An agent that never answers initialize must not hold the request past its deadline.
    const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(deadlineOf("agentSession.start", params))]);
    return ctx.agentSessions.start(params, cwd, signal);
  },
  "agentSession.prompt": async (params, ctx) => ctx.agentSessions.prompt(params),
  "agentSession.cancel": async (params, ctx) => ctx.agentSessions.cancel(params),
  "agentSession.answer": async (params, ctx) => ctx.agentSessions.answer(params),
  "agentSession.close": (params, ctx) => ctx.agentSessions.close(params),
  "agentSession.sync": async (params, ctx) => ctx.agentSessions.sync(params),
};
