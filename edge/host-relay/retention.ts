import { and, eq, lt } from "drizzle-orm";
import { deleteEndedSessions, deleteSettledApprovals, sessionsEndedBefore } from "../agent-sessions/store";
import type { Db } from "../db/client";
import { auditLog } from "../db/schema";
import { wakeBy } from "./alarm";
import type { ApprovalBook } from "./approval-book";
import type { SessionLog } from "./session-log";

/** How often a host's object looks for what its retention lets go. */
export const SWEEP_INTERVAL_MS = 24 * 60 * 60 * 1000;
/** After a sweep that failed (D1 unreachable), the next try. */
const RETRY_MS = 60 * 60 * 1000;
const KEY = "retention-sweep";
const DAY_MS = 24 * 60 * 60 * 1000;

/** How long ended sessions' messages and rows, settled approvals and audit rows are kept (edge/config.ts). */
export interface Retention {
  sessionDays: number;
  approvalDays: number;
  sessionRowDays: number;
  auditDays: number;
}

/** Whose host this object is: the sweep's D1 queries are scoped to it. */
export interface SweepOwner {
  userId: string;
  hostId: string;
}

interface Due extends SweepOwner {
  at: number;
}

/**
 * When the host's object next sweeps its ended sessions' messages and its settled approvals
 * (`sweep`, below): a time and the owner in the object's storage, and the
 * object's alarm set by then. The alarm is shared (audit flush, hello checks), so it can ring
 * earlier than the sweep is due: `due` then sets it again for the sweep, never later.
 */
export class RetentionSchedule {
  constructor(private readonly storage: DurableObjectStorage) {}

  /** A sweep within SWEEP_INTERVAL_MS (one already planned is kept). */
  async plan(owner: SweepOwner, now = Date.now()): Promise<void> {
    if (await this.storage.get<Due>(KEY)) return;
    await this.#at(owner, now + SWEEP_INTERVAL_MS);
  }

  /** When the planned sweep is due; undefined when none is planned. */
  async plannedAt(): Promise<number | undefined> {
    return (await this.storage.get<Due>(KEY))?.at;
  }

  /** From the alarm: the owner when a sweep is due now, else undefined (and the alarm kept for it). */
  async due(now = Date.now()): Promise<SweepOwner | undefined> {
    const due = await this.storage.get<Due>(KEY);
    if (!due) return undefined;
    if (due.at > now) {
      await wakeBy(this.storage, due.at);
      return undefined;
    }
    return { userId: due.userId, hostId: due.hostId };
  }

  /** After a sweep: the next one a day later while there is more to let go, a retry sooner after a failure. */
  async swept(owner: SweepOwner, outcome: "more" | "done" | "failed", now = Date.now()): Promise<void> {
    if (outcome === "done") await this.storage.delete(KEY);
    else await this.#at(owner, now + (outcome === "failed" ? RETRY_MS : SWEEP_INTERVAL_MS));
  }

  async #at(owner: SweepOwner, at: number): Promise<void> {
    await this.storage.put(KEY, { userId: owner.userId, hostId: owner.hostId, at } satisfies Due);
    await wakeBy(this.storage, at);
  }
}

/**
 * One sweep of a host: deletes the messages of its sessions that ended more than
 * `sessionDays` ago (their numbering stays, see SessionLog.prune) with their approvals in the
 * object, its approvals in D1 settled more than `approvalDays` ago, its ended sessions' rows
 * after `sessionRowDays` and its audit rows after `auditDays`. D1 says which sessions
 * ended when: a session ended by a route while its process was gone never told the object.
 * Returns whether anything is left to age out (messages, ended sessions, audit rows), so
 * another sweep is due later.
 */
export async function sweep(
  db: Db,
  stores: { log: SessionLog; approvals: ApprovalBook },
  owner: SweepOwner,
  retention: Retention,
  now = Date.now(),
): Promise<boolean> {
  const { log, approvals } = stores;
  const endedBefore = new Date(now - retention.sessionDays * DAY_MS);
  for (const sessionId of await sessionsEndedBefore(db, owner.hostId, log.held(), endedBefore)) {
    log.prune(sessionId);
    approvals.forget(sessionId);
  }
  await deleteSettledApprovals(db, owner, new Date(now - retention.approvalDays * DAY_MS));
  // A row outlives its messages: the loop above only prunes sessions D1 still names.
  const rowDays = Math.max(retention.sessionRowDays, retention.sessionDays);
  const endedLeft = await deleteEndedSessions(db, owner.hostId, new Date(now - rowDays * DAY_MS));
  const auditLeft = await deleteOldAudit(db, owner.hostId, new Date(now - retention.auditDays * DAY_MS));
  return log.held().length > 0 || endedLeft || auditLeft;
}

/** Deletes the host's audit rows older than `before`; returns whether it has rows left to age out. */
async function deleteOldAudit(db: Db, hostId: string, before: Date): Promise<boolean> {
  await db.delete(auditLog).where(and(eq(auditLog.hostId, hostId), lt(auditLog.createdAt, before)));
  const [left] = await db.select({ id: auditLog.id }).from(auditLog).where(eq(auditLog.hostId, hostId)).limit(1);
  return left !== undefined;
}
