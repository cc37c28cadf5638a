import { and, asc, count, desc, eq, gt, inArray, isNotNull, lt, ne, notInArray, or, type SQL, sql } from "drizzle-orm";
import { KaiError } from "../../shared/errors";
import {
  type AgentMessage,
  type AgentSessionState,
  type AgentSessionStatus,
  type ApprovalInfo,
  agentUsage,
  approvalOption,
} from "../../shared/schemas/agent-sessions";
import type { Db } from "../db/client";
import { agentApprovals, agentSessions } from "../db/schema";

/**
 * Agent sessions and approvals in D1: what lists and the approvals inbox read. The messages
 * themselves, and who answered an approval first, live in the host's Durable Object
 * (edge/host-relay/session-log.ts, approval-book.ts); these rows change on transitions only.
 */

export type AgentSessionRow = typeof agentSessions.$inferSelect;
type AgentApprovalRow = typeof agentApprovals.$inferSelect;

/** The most rows one page holds, whatever the caller asks for. */
export const MAX_PAGE_SIZE = 100;

interface Page {
  limit: number;
  offset: number;
}

/** Statuses after which the session runs no more: reaching one sets `ended_at`. */
const FINAL: AgentSessionStatus[] = ["ended", "failed"];
/** Statuses of a process that runs on a connected host: the host going offline makes them `disconnected`. */
const ATTACHED: AgentSessionStatus[] = ["starting", "running", "waiting_for_approval", "idle"];

const bounded = ({ limit, offset }: Page) => ({
  limit: Math.min(Math.max(1, Math.trunc(limit)), MAX_PAGE_SIZE),
  offset: Math.max(0, Math.trunc(offset)),
});

/** A new session, `starting`, before the agent is asked to start it; its profile is known once it has. */
export async function createSession(
  db: Db,
  session: { userId: string; hostId: string; workspaceId: string; profile: string | null },
): Promise<AgentSessionRow> {
  const now = new Date();
  const [row] = await db
    .insert(agentSessions)
    .values({ id: crypto.randomUUID(), ...session, status: "starting", createdAt: now, updatedAt: now })
    .returning();
  if (!row) throw new KaiError("INTERNAL_ERROR", "the agent session could not be stored");
  return row;
}

/** One of the user's own sessions; anyone else's is NOT_FOUND, never FORBIDDEN. */
export async function findOwnSession(db: Db, userId: string, id: string): Promise<AgentSessionRow> {
  const [row] = await db
    .select()
    .from(agentSessions)
    .where(and(eq(agentSessions.id, id), eq(agentSessions.userId, userId)));
  if (!row) throw new KaiError("NOT_FOUND", "no such agent session");
  return row;
}

/** The user's sessions, newest first, optionally of one workspace or status; at most MAX_PAGE_SIZE a page. */
export function listSessions(
  db: Db,
  userId: string,
  filter: Page & { workspaceId?: string | undefined; status?: AgentSessionStatus | undefined },
): Promise<AgentSessionRow[]> {
  const conditions: SQL[] = [eq(agentSessions.userId, userId)];
  if (filter.workspaceId) conditions.push(eq(agentSessions.workspaceId, filter.workspaceId));
  if (filter.status) conditions.push(eq(agentSessions.status, filter.status));
  const { limit, offset } = bounded(filter);
  return db
    .select()
    .from(agentSessions)
    .where(and(...conditions))
    .orderBy(desc(agentSessions.createdAt), desc(agentSessions.id))
    .limit(limit)
    .offset(offset);
}

/** How many of the user's sessions are not over (interrupted ones count: the next message resumes them). */
export async function countLiveSessions(db: Db, userId: string): Promise<number> {
  const [total] = await db
    .select({ value: count() })
    .from(agentSessions)
    .where(and(eq(agentSessions.userId, userId), notInArray(agentSessions.status, FINAL)));
  return total?.value ?? 0;
}

/**
 * Writes a transition the agent reported. What the state leaves out (a restarted kai-agent
 * knows no title) is kept; `error` is the current one, so it clears once the session
 * recovers; `last_seq` never goes back. With `hostId`, only a session of that host is
 * written: the host relay passes its own, so an agent cannot touch another host's sessions.
 * Undefined when there is no such session.
 */
export async function applyState(
  db: Db,
  sessionId: string,
  state: AgentSessionState,
  profile?: string,
  hostId?: string,
  now = new Date(),
): Promise<AgentSessionRow | undefined> {
  const which = eq(agentSessions.id, sessionId);
  const [row] = await db
    .update(agentSessions)
    .set({
      status: state.status,
      profile,
      lastSeq: sql`max(${agentSessions.lastSeq}, ${state.lastSeq})`,
      title: state.title,
      usageJson: state.usage ? JSON.stringify(state.usage) : undefined,
      stopReason: state.stopReason,
      acpSessionId: state.acpSessionId,
      error: state.error ?? null,
      endedAt: FINAL.includes(state.status) ? sql`coalesce(${agentSessions.endedAt}, ${now.getTime()})` : null,
      updatedAt: now,
    })
    .where(hostId ? and(which, eq(agentSessions.hostId, hostId)) : which)
    .returning();
  return row;
}

/** The session could not start (or its process failed outside any report): `failed`, with why. */
export async function markFailed(db: Db, sessionId: string, error: string, now = new Date()): Promise<void> {
  await db
    .update(agentSessions)
    .set({
      status: "failed",
      error: error.slice(0, 4096),
      endedAt: sql`coalesce(${agentSessions.endedAt}, ${now.getTime()})`,
      updatedAt: now,
    })
    .where(eq(agentSessions.id, sessionId));
}

/** The session was closed: `ended`, with the agent's last state when it gave one (its host may be offline). */
export async function markEnded(db: Db, sessionId: string, state?: AgentSessionState, now = new Date()) {
  if (state) {
    await applyState(db, sessionId, { ...state, status: "ended" }, undefined, undefined, now);
    return;
  }
  await db
    .update(agentSessions)
    .set({ status: "ended", endedAt: sql`coalesce(${agentSessions.endedAt}, ${now.getTime()})`, updatedAt: now })
    .where(eq(agentSessions.id, sessionId));
}

/** The host's sessions that are not over, oldest first: what `agentSession.sync` asks the agent about. */
export async function liveSessionsOfHost(db: Db, hostId: string): Promise<string[]> {
  const rows = await db
    .select({ id: agentSessions.id })
    .from(agentSessions)
    .where(and(eq(agentSessions.hostId, hostId), notInArray(agentSessions.status, FINAL)))
    .orderBy(asc(agentSessions.createdAt));
  return rows.map((row) => row.id);
}

/** The host went offline: its sessions whose process was attached become `disconnected` (they may run on). */
export async function markHostSessionsDisconnected(db: Db, hostId: string, now = new Date()): Promise<void> {
  await db
    .update(agentSessions)
    .set({ status: "disconnected", updatedAt: now })
    .where(and(eq(agentSessions.hostId, hostId), inArray(agentSessions.status, ATTACHED)));
}

/**
 * Records the approval a message asks for, the moment it arrives (idempotent: a resent
 * message changes nothing). The message gives the tool, its title and the tool call.
 */
export async function recordApproval(
  db: Db,
  asked: { userId: string; hostId: string; sessionId: string; message: AgentMessage; approval: ApprovalInfo },
): Promise<void> {
  const { message, approval } = asked;
  await db
    .insert(agentApprovals)
    .values({
      id: approval.id,
      sessionId: asked.sessionId,
      userId: asked.userId,
      hostId: asked.hostId,
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
 * Records how an approval ended, as the agent reports it (its word is the last one, see
 * approval-book.ts); with `hostId`, only an approval of that host. A pending one changes nothing.
 */
export async function settleApproval(db: Db, approval: ApprovalInfo, hostId?: string, now = new Date()) {
  if (approval.state === "pending") return;
  const which = eq(agentApprovals.id, approval.id);
  await db
    .update(agentApprovals)
    .set({
      state: approval.state,
      optionId: approval.option_id ?? null,
      reason: approval.reason ?? null,
      resolvedAt: now,
    })
    .where(hostId ? and(which, eq(agentApprovals.hostId, hostId)) : which);
}

/** Ids per D1 query: D1 binds at most 100 parameters to one statement. */
const IDS_PER_QUERY = 90;

/** Which of `sessionIds` (sessions of `hostId`) ended or failed before `before`: their messages may go. */
export async function sessionsEndedBefore(
  db: Db,
  hostId: string,
  sessionIds: string[],
  before: Date,
): Promise<string[]> {
  const ended: string[] = [];
  for (let from = 0; from < sessionIds.length; from += IDS_PER_QUERY) {
    const rows = await db
      .select({ id: agentSessions.id })
      .from(agentSessions)
      .where(
        and(
          inArray(agentSessions.id, sessionIds.slice(from, from + IDS_PER_QUERY)),
          eq(agentSessions.hostId, hostId),
          inArray(agentSessions.status, FINAL),
          isNotNull(agentSessions.endedAt),
          lt(agentSessions.endedAt, before),
        ),
      );
    ended.push(...rows.map((row) => row.id));
  }
  return ended;
}

/**
 * Deletes the host's approvals settled before `before`, and pending ones whose expiry is
 * older than that (their end was never reported: the agent refused them on its own long ago).
 * The host's owner narrows the scan to the inbox's index. Returns how many went.
 */
export async function deleteSettledApprovals(
  db: Db,
  owner: { userId: string; hostId: string },
  before: Date,
): Promise<number> {
  const deleted = await db
    .delete(agentApprovals)
    .where(
      and(
        eq(agentApprovals.userId, owner.userId),
        eq(agentApprovals.hostId, owner.hostId),
        or(
          and(ne(agentApprovals.state, "pending"), lt(agentApprovals.resolvedAt, before)),
          and(eq(agentApprovals.state, "pending"), lt(agentApprovals.expiresAt, before)),
        ),
      ),
    )
    .returning({ id: agentApprovals.id });
  return deleted.length;
}

/**
 * Deletes the host's sessions that ended or failed before `before` (their approvals go with
 * them); returns whether the host has ended sessions left, which a later sweep deletes.
 */
export async function deleteEndedSessions(db: Db, hostId: string, before: Date): Promise<boolean> {
  const ended = and(eq(agentSessions.hostId, hostId), inArray(agentSessions.status, FINAL));
  await db.delete(agentSessions).where(and(ended, lt(agentSessions.endedAt, before)));
  const [left] = await db.select({ id: agentSessions.id }).from(agentSessions).where(ended).limit(1);
  return left !== undefined;
}

/**
 * The user's approvals still waiting for an answer and not expired (of one session, or all:
 * the inbox), oldest first; at most MAX_PAGE_SIZE a page.
 */
export function listApprovals(
  db: Db,
  userId: string,
  filter: Page & { sessionId?: string | undefined },
  now = new Date(),
): Promise<AgentApprovalRow[]> {
  const conditions: SQL[] = [
    eq(agentApprovals.userId, userId),
    eq(agentApprovals.state, "pending"),
    gt(agentApprovals.expiresAt, now),
  ];
  if (filter.sessionId) conditions.push(eq(agentApprovals.sessionId, filter.sessionId));
  const { limit, offset } = bounded(filter);
  return db
    .select()
    .from(agentApprovals)
    .where(and(...conditions))
    .orderBy(asc(agentApprovals.createdAt), asc(agentApprovals.id))
    .limit(limit)
    .offset(offset);
}

/** A session as the API shows it (snake_case, ISO times); a usage that no longer parses shows as null. */
export function toSessionResource(row: AgentSessionRow) {
  const usage = row.usageJson ? agentUsage.safeParse(JSON.parse(row.usageJson)) : undefined;
  return {
    id: row.id,
    workspace_id: row.workspaceId,
    host_id: row.hostId,
    profile: row.profile,
    status: row.status,
    title: row.title,
    last_seq: row.lastSeq,
    stop_reason: row.stopReason,
    error: row.error,
    usage: usage?.success ? usage.data : null,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
    ended_at: row.endedAt?.toISOString() ?? null,
  };
}

/** An approval as the API shows it; options that no longer parse are left out. */
export function toApprovalResource(row: AgentApprovalRow) {
  const options: unknown = JSON.parse(row.optionsJson);
  return {
    id: row.id,
    session_id: row.sessionId,
    host_id: row.hostId,
    tool_call_id: row.toolCallId,
    tool: row.tool,
    title: row.title,
    options: (Array.isArray(options) ? options : []).flatMap((option) => {
      const parsed = approvalOption.safeParse(option);
      return parsed.success ? [parsed.data] : [];
    }),
    state: row.state,
    option_id: row.optionId,
    reason: row.reason,
    created_at: row.createdAt.toISOString(),
    expires_at: row.expiresAt.toISOString(),
    resolved_at: row.resolvedAt?.toISOString() ?? null,
  };
}
