import { and, asc, count, desc, eq, gt, type SQL, sql } from "drizzle-orm";
import { KaiError } from "../../shared/errors";
import type { AgentMessage, AgentSessionState, AgentSessionStatus } from "../../shared/schemas/agent-sessions";
import type { Db } from "../db/client";
import { agentApprovals, agentSessions } from "../db/schema";

/**
 * Agent sessions and approvals in D1: what lists and the approvals inbox read. The messages
 * themselves and who answered an approval first live in the host's Durable Object
 * (edge/host-relay/session-log.ts, approval-book.ts); these rows change on transitions only.
 */

export type AgentSessionRow = typeof agentSessions.$inferSelect;
export type AgentApprovalRow = typeof agentApprovals.$inferSelect;

/** The most rows one page holds, whatever the caller asks for. */
export const MAX_PAGE_SIZE = 100;

interface Page {
  limit: number;
  offset: number;
}

/** Statuses after which the session runs no more: reaching one stamps `ended_at`. */
const FINAL: readonly AgentSessionStatus[] = ["ended", "failed"];

const bounded = ({ limit, offset }: Page) => ({
  limit: Math.min(Math.max(1, Math.trunc(limit)), MAX_PAGE_SIZE),
  offset: Math.max(0, Math.trunc(offset)),
});

/** A new session, `starting`, before the agent is asked to start it. */
export async function createAgentSession(
  db: Db,
  session: { id: string; userId: string; hostId: string; workspaceId: string; profile: string },
): Promise<AgentSessionRow> {
  const now = new Date();
  const [row] = await db
    .insert(agentSessions)
    .values({ ...session, status: "starting", createdAt: now, updatedAt: now })
    .returning();
  if (!row) throw new KaiError("INTERNAL_ERROR", "the agent session could not be stored");
  return row;
}

/** One of the user's own sessions; anyone else's is NOT_FOUND, never FORBIDDEN. */
export async function findOwnAgentSession(db: Db, userId: string, id: string): Promise<AgentSessionRow> {
  const [row] = await db
    .select()
    .from(agentSessions)
    .where(and(eq(agentSessions.id, id), eq(agentSessions.userId, userId)));
  if (!row) throw new KaiError("NOT_FOUND", "no such agent session");
  return row;
}

/** The user's sessions, newest first, optionally of one workspace or status; at most MAX_PAGE_SIZE a page. */
export async function listAgentSessions(
  db: Db,
  userId: string,
  filter: Page & { workspaceId?: string; status?: AgentSessionStatus },
): Promise<{ rows: AgentSessionRow[]; total: number }> {
  const conditions: SQL[] = [eq(agentSessions.userId, userId)];
  if (filter.workspaceId) conditions.push(eq(agentSessions.workspaceId, filter.workspaceId));
  if (filter.status) conditions.push(eq(agentSessions.status, filter.status));
  const where = and(...conditions);
  const { limit, offset } = bounded(filter);
  const rows = await db
    .select()
    .from(agentSessions)
    .where(where)
    .orderBy(desc(agentSessions.createdAt), desc(agentSessions.id))
    .limit(limit)
    .offset(offset);
  const [total] = await db.select({ value: count() }).from(agentSessions).where(where);
  return { rows, total: total?.value ?? 0 };
}

/**
 * Writes a transition the host's agent reported, only to a session of that host (an agent
 * cannot touch another host's sessions). What the state leaves out (a restarted kai-agent
 * knows no title) is kept; `error` is the current one, so it clears once the session
 * recovers; `last_seq` never goes back. Undefined when the host has no such session.
 */
export async function applyAgentSessionState(
  db: Db,
  hostId: string,
  sessionId: string,
  state: AgentSessionState,
  now = new Date(),
): Promise<AgentSessionRow | undefined> {
  const [row] = await db
    .update(agentSessions)
    .set({
      status: state.status,
      lastSeq: sql`max(${agentSessions.lastSeq}, ${state.lastSeq})`,
      title: state.title,
      usageJson: state.usage ? JSON.stringify(state.usage) : undefined,
      stopReason: state.stopReason,
      acpSessionId: state.acpSessionId,
      error: state.error ?? null,
      endedAt: FINAL.includes(state.status) ? sql`coalesce(${agentSessions.endedAt}, ${now.getTime()})` : null,
      updatedAt: now,
    })
    .where(and(eq(agentSessions.id, sessionId), eq(agentSessions.hostId, hostId)))
    .returning();
  return row;
}

/**
 * Records the approval a message asks for, the moment it arrives (idempotent: a resent
 * message changes nothing). A message without an approval records nothing.
 */
export async function recordApproval(
  db: Db,
  session: Pick<AgentSessionRow, "id" | "userId" | "hostId">,
  message: AgentMessage,
): Promise<void> {
  const approval = message.approval;
  if (!approval) return;
  await db
    .insert(agentApprovals)
    .values({
      id: approval.id,
      sessionId: session.id,
      userId: session.userId,
      hostId: session.hostId,
      toolCallId: message.tool_call_id,
      tool: message.tool,
      title: message.content,
      optionsJson: JSON.stringify(approval.options),
      state: "pending",
      expiresAt: new Date(approval.expires_at),
    })
    .onConflictDoNothing();
}

/**
 * Records how an approval ended, as the host's agent reports it (its word is the last one,
 * see approval-book.ts); only for an approval of that host. A pending one changes nothing.
 */
export async function settleApproval(
  db: Db,
  hostId: string,
  approval: NonNullable<AgentMessage["approval"]>,
  now = new Date(),
): Promise<void> {
  if (approval.state === "pending") return;
  await db
    .update(agentApprovals)
    .set({
      state: approval.state,
      optionId: approval.option_id ?? null,
      reason: approval.reason ?? null,
      resolvedAt: now,
    })
    .where(and(eq(agentApprovals.id, approval.id), eq(agentApprovals.hostId, hostId)));
}

/** The user's approvals still waiting for an answer and not yet expired, oldest first: the inbox. */
export async function listPendingApprovals(
  db: Db,
  userId: string,
  page: Page,
  now = new Date(),
): Promise<{ rows: AgentApprovalRow[]; total: number }> {
  const where = and(
    eq(agentApprovals.userId, userId),
    eq(agentApprovals.state, "pending"),
    gt(agentApprovals.expiresAt, now),
  );
  const { limit, offset } = bounded(page);
  const rows = await db
    .select()
    .from(agentApprovals)
    .where(where)
    .orderBy(asc(agentApprovals.createdAt), asc(agentApprovals.id))
    .limit(limit)
    .offset(offset);
  const [total] = await db.select({ value: count() }).from(agentApprovals).where(where);
  return { rows, total: total?.value ?? 0 };
}
