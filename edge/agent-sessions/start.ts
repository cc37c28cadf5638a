import type { Context } from "hono";
import { z } from "zod";
import { KaiError, messageOf } from "../../shared/errors";
import type { SignedInEnv } from "../env";
import { findOwnHost } from "../hosts/hosts";
import { agentOf } from "../middleware/select-host";
import { relay } from "../relay/relay";
import { userFeed } from "../user-feed/stub";
import { emitEvent } from "../webhooks/outbox";
import { WORKSPACE_HEADER } from "../workspaces/resolve";
import { findOwnWorkspace } from "../workspaces/workspaces";
import {
  type AgentSessionRow,
  applyState,
  countLiveSessions,
  createSession,
  findOwnSession,
  markFailed,
} from "./store";

/** Live sessions one user may have across all hosts (each host also bounds its own, default 4). */
const MAX_LIVE_SESSIONS_PER_USER = 16;

/**
 * Starts an agent session in one of the caller's workspaces: a row first (status `starting`),
 * then the host's agent process. A start that fails leaves the row `failed` with the reason,
 * so the list shows what was tried and why it did not run, and answers the failure's code.
 */
export async function startSession(
  c: Context<SignedInEnv>,
  wanted: { workspaceId: string | undefined; profile?: string | undefined },
): Promise<AgentSessionRow> {
  const db = c.var.db;
  const userId = c.var.principal.userId;
  if (!wanted.workspaceId || !z.uuid().safeParse(wanted.workspaceId).success) {
    throw new KaiError("VALIDATION_ERROR", `name the workspace: workspace_id or the ${WORKSPACE_HEADER} header`, {
      details: { fields: { workspace_id: ["required: a workspace (catalog item) id"] } },
    });
  }
  const workspace = await findOwnWorkspace(db, userId, wanted.workspaceId).catch(() => {
    throw new KaiError("NOT_FOUND", "no such workspace");
  });
  const host = await findOwnHost(db, userId, workspace.hostId);
  if ((await countLiveSessions(db, userId)) >= MAX_LIVE_SESSIONS_PER_USER) {
    throw new KaiError(
      "CONFLICT",
      `you have ${MAX_LIVE_SESSIONS_PER_USER} live agent sessions, the most at once; end one with DELETE first`,
    );
  }
  const session = await createSession(db, {
    userId,
    hostId: host.id,
    workspaceId: workspace.id,
    profile: wanted.profile ?? null,
  });
  try {
    const started = await relay(agentOf(c, host), "agentSession.start", {
      root: workspace.hostPath,
      sessionId: session.id,
      ...(wanted.profile ? { profile: wanted.profile } : {}),
    });
    await applyState(db, session.id, started.state, started.profile);
    const event = { sessionId: session.id, hostId: host.id, workspaceId: workspace.id, profile: started.profile };
    const emitted = emitEvent(c.env, userId, "session.started", event).catch((error) => {
      console.error(`agent session ${session.id}: queueing the session.started webhook failed (${messageOf(error)})`);
    });
    c.executionCtx.waitUntil(emitted);
    const at = new Date().toISOString();
    const published = userFeed(c.env, userId)
      .publish({ type: "session", hostId: host.id, at, event: "session.started", sessionId: session.id, detail: event })
      .catch((error) =>
        console.error(`agent session ${session.id}: publishing to the feed failed (${messageOf(error)})`),
      );
    c.executionCtx.waitUntil(published);
  } catch (error) {
    await markFailed(db, session.id, messageOf(error));
    throw error;
  }
  return findOwnSession(db, userId, session.id);
}
