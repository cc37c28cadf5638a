import { KaiError } from "../../shared/errors";
import type { AgentSessionStatus } from "../../shared/schemas/agent-sessions";
import type { Db } from "../db/client";
import type { Ask } from "../relay/relay";
import { findOwnWorkspace } from "../workspaces/workspaces";
import { type AgentSessionRow, applyState } from "./store";

/** Statuses whose agent process is gone: the next message starts it again and restores the conversation. */
const RESTORABLE: readonly AgentSessionStatus[] = ["interrupted"];
/** Statuses that take no more messages. */
const FINISHED: readonly AgentSessionStatus[] = ["ended", "failed"];

/**
 * Starts a turn: the session's process is restored first when it is gone (ACP session/resume or
 * session/load, numbering on from the last stored message). Returns the turn's run id, which
 * every message of the turn carries. Shared by `POST .../messages`, agent-chats and a viewer's
 * `message` frame, so all three behave the same.
 */
export async function startTurn(
  db: Db,
  ask: Ask,
  session: AgentSessionRow,
  message: string,
  runId: string = crypto.randomUUID(),
): Promise<string> {
  const status = session.status as AgentSessionStatus;
  if (FINISHED.includes(status)) {
    throw new KaiError(
      "CONFLICT",
      `this agent session has ${status}; start a new one with POST /api/v1/agent-sessions`,
    );
  }
  if (status === "disconnected") {
    throw new KaiError("AGENT_OFFLINE", "the session's host is offline; the message can be sent once it reconnects");
  }
  if (RESTORABLE.includes(status)) await restore(db, ask, session);
  await ask("agentSession.prompt", { sessionId: session.id, runId, message });
  return runId;
}

async function restore(db: Db, ask: Ask, session: AgentSessionRow): Promise<void> {
  if (!session.acpSessionId) {
    throw new KaiError(
      "CONFLICT",
      "this session's agent never started, so there is nothing to resume; start a new one",
    );
  }
  const workspace = await findOwnWorkspace(db, session.userId, session.workspaceId);
  const started = await ask("agentSession.start", {
    root: workspace.hostPath,
    sessionId: session.id,
    ...(session.profile ? { profile: session.profile } : {}),
    restore: { acpSessionId: session.acpSessionId, lastSeq: session.lastSeq },
  });
  await applyState(db, session.id, started.state);
}
