import { z } from "zod";
import type { ApprovalInfo } from "../../shared/schemas/agent-sessions";
import { approvalOptionKind } from "../../shared/schemas/command-params";

/** What the agent is told: an option kind (it picks its own option of that kind) or `cancelled`. */
const answerKind = approvalOptionKind.or(z.literal("cancelled"));
type AnswerKind = z.infer<typeof answerKind>;

/**
 * A person's answer: `allow` or `reject` (the API's words), an exact option kind, or
 * `cancelled`. `allow` means allow_once only, never more than was asked; `reject` means
 * reject_once, or reject_always when that is the only refusal offered (refusing more is safe).
 */
export type Decision = "allow" | "reject" | AnswerKind;

/** An answer to hand to the agent: `{sessionId, approvalId, kind}` are the params of `agentSession.answer`. */
export interface UndeliveredAnswer {
  sessionId: string;
  approvalId: string;
  decision: Decision;
  kind: AnswerKind;
}

/** An approval still waiting for a person. */
export interface PendingApproval {
  sessionId: string;
  approvalId: string;
  toolCallId: string | null;
  /** The seq of the message that asked. */
  seq: number;
  options: ApprovalInfo["options"];
  expiresAt: string;
}

type AnswerOutcome = "accepted" | "already_resolved" | "not_found" | "no_such_option";

interface Row extends Record<string, string | number | null> {
  id: string;
  session_id: string;
  tool_call_id: string | null;
  seq: number;
  state: string;
  options: string;
  expires_at: string;
  answer: string | null;
  kind: string | null;
}

/**
 * The approvals of this host's agent sessions, in the object's own SQLite: the one place
 * where "the first answer wins" is decided, because everything here is synchronous and the
 * object runs one thing at a time, so two answers cannot both see the approval open.
 *
 * State machine of one approval (`state` is the contract's ApprovalInfo state):
 *
 *     requested ──► pending, no answer ──answer()──► pending, answered, undelivered
 *                      │                                   │ delivered()
 *                      │                                   ▼
 *                      │                          pending, answered, delivered
 *                      │                                   │
 *                      └──────────── settled() ────────────┴──► allowed | rejected | cancelled
 *
 * - The first answer is recorded at once (`accepted`), even while the host is offline; a later
 *   one, or one for a settled or expired approval, is `already_resolved`.
 * - Answers are sent to the agent from `undelivered()` right away when it is connected and
 *   again after it reconnects, until `delivered()`; an answer the agent refuses because it
 *   already resolved the approval is marked delivered too, and its `settled` follows.
 * - The agent has the last word: `settled()` records what the agent reports, even when a
 *   person's answer came first (the approval expired or was withdrawn before the answer
 *   reached it), and an answer not yet delivered is then dropped.
 */
export class ApprovalBook {
  #ready = false;

  constructor(private readonly sqlite: SqlStorage) {}

  /** An agent message asks for permission (idempotent: a resent message changes nothing). */
  requested(sessionId: string, approval: ApprovalInfo, toolCallId: string | null | undefined, seq: number): void {
    this.#sql().exec(
      `INSERT INTO agent_approvals (id, session_id, tool_call_id, seq, state, options, expires_at)
       VALUES (?, ?, ?, ?, 'pending', ?, ?) ON CONFLICT (id) DO NOTHING`,
      approval.id,
      sessionId,
      toolCallId ?? null,
      seq,
      JSON.stringify(approval.options),
      approval.expires_at,
    );
  }

  /**
   * An agent message reports how the approval ended. Recorded even for one never seen
   * asking (its message was trimmed, or came before this object stored any), so a late
   * answer is told `already_resolved` rather than `not_found`.
   */
  settled(sessionId: string, approval: ApprovalInfo): void {
    if (approval.state === "pending") return;
    const sql = this.#sql();
    sql.exec(
      `INSERT INTO agent_approvals (id, session_id, seq, state, options, expires_at, option_id, reason)
       VALUES (?, ?, 0, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET state = excluded.state, option_id = excluded.option_id, reason = excluded.reason`,
      approval.id,
      sessionId,
      approval.state,
      JSON.stringify(approval.options),
      approval.expires_at,
      approval.option_id ?? null,
      approval.reason ?? null,
    );
  }

  /**
   * A person answers. `no_such_option` when the approval offers no option for the decision
   * (the agent would refuse it): nothing is recorded, the approval stays open. An approval
   * past its `expires_at` is `already_resolved`: the agent refuses it on its own, even if its
   * report has not arrived yet.
   */
  answer(sessionId: string, approvalId: string, decision: Decision, now = Date.now()): AnswerOutcome {
    const sql = this.#sql();
    const row = sql
      .exec<Row>("SELECT * FROM agent_approvals WHERE id = ? AND session_id = ?", approvalId, sessionId)
      .toArray()[0];
    if (!row) return "not_found";
    if (row.state !== "pending" || row.answer !== null || Date.parse(row.expires_at) <= now) return "already_resolved";
    const kind = kindFor(decision, optionsOf(row));
    if (!kind) return "no_such_option";
    sql.exec(
      "UPDATE agent_approvals SET answer = ?, kind = ?, answered_at = ?, delivered = 0 WHERE id = ?",
      decision,
      kind,
      now,
      approvalId,
    );
    return "accepted";
  }

  /** Answers the agent has not confirmed yet, in about the order given: send each with `agentSession.answer`. */
  undelivered(): UndeliveredAnswer[] {
    return this.#sql()
      .exec<Row>(
        `SELECT * FROM agent_approvals WHERE state = 'pending' AND answer IS NOT NULL AND delivered = 0
         ORDER BY answered_at, rowid`,
      )
      .toArray()
      .map((row) => ({
        sessionId: row.session_id,
        approvalId: row.id,
        decision: decisionOf(row.answer),
        kind: answerKind.parse(row.kind),
      }));
  }

  /** The agent took the answer (or refused it as already resolved): it is not sent again. */
  delivered(approvalId: string): void {
    this.#sql().exec("UPDATE agent_approvals SET delivered = 1 WHERE id = ?", approvalId);
  }

  /**
   * Approvals no one has answered yet and not expired (of one session, or all), oldest first.
   * Expiry is compared as time, not as text: the agent's timestamps may differ in precision.
   */
  pending(sessionId?: string, now = Date.now()): PendingApproval[] {
    const unanswered = "state = 'pending' AND answer IS NULL";
    const sql = this.#sql();
    const rows = sessionId
      ? sql.exec<Row>(`SELECT * FROM agent_approvals WHERE ${unanswered} AND session_id = ? ORDER BY seq`, sessionId)
      : sql.exec<Row>(`SELECT * FROM agent_approvals WHERE ${unanswered} ORDER BY session_id, seq`);
    const open = rows.toArray().filter((row) => Date.parse(row.expires_at) > now);
    return open.map((row) => ({
      sessionId: row.session_id,
      approvalId: row.id,
      toolCallId: row.tool_call_id,
      seq: row.seq,
      options: optionsOf(row),
      expiresAt: row.expires_at,
    }));
  }

  /**
   * The session's approvals that ended withdrawn, oldest first: what a viewer that comes back
   * is told besides the log, since the edge withdraws those of a gone agent process without a
   * numbered message (agent-session-hub.ts, #processGone), and no `since` says whether the
   * viewer was there to hear it. The agent's own withdrawals come too, a repeat of their
   * numbered resolution: clients apply resolutions by approval id.
   */
  withdrawn(sessionId: string): { toolCallId: string | null; approval: ApprovalInfo }[] {
    return this.#sql()
      .exec<Row>(
        `SELECT * FROM agent_approvals WHERE session_id = ? AND state = 'cancelled' AND reason = 'withdrawn'
         ORDER BY seq`,
        sessionId,
      )
      .toArray()
      .map((row) => ({
        toolCallId: row.tool_call_id,
        approval: {
          id: row.id,
          state: "cancelled",
          options: optionsOf(row),
          expires_at: row.expires_at,
          reason: "withdrawn",
        },
      }));
  }

  /** Drops a deleted session's approvals. */
  forget(sessionId: string): void {
    this.#sql().exec("DELETE FROM agent_approvals WHERE session_id = ?", sessionId);
  }

  #sql(): SqlStorage {
    const sql = this.sqlite;
    if (this.#ready) return sql;
    sql.exec(
      `CREATE TABLE IF NOT EXISTS agent_approvals (
         id TEXT PRIMARY KEY, session_id TEXT NOT NULL, tool_call_id TEXT, seq INTEGER NOT NULL,
         state TEXT NOT NULL, options TEXT NOT NULL, expires_at TEXT NOT NULL,
         option_id TEXT, reason TEXT, answer TEXT, kind TEXT, answered_at INTEGER, delivered INTEGER NOT NULL DEFAULT 0
       )`,
    );
    sql.exec("CREATE INDEX IF NOT EXISTS agent_approvals_session_idx ON agent_approvals (session_id, seq)");
    this.#ready = true;
    return sql;
  }
}

/** Written only from a parsed ApprovalInfo's options. */
function optionsOf(row: Row): ApprovalInfo["options"] {
  return JSON.parse(row.options);
}

/** The kind to tell the agent for a decision, among the options it offered; undefined when none fits. */
function kindFor(decision: Decision, options: ApprovalInfo["options"]): AnswerKind | undefined {
  if (decision === "cancelled") return decision;
  const wanted =
    decision === "allow" ? ["allow_once"] : decision === "reject" ? ["reject_once", "reject_always"] : [decision];
  return wanted.map((kind) => options.find((option) => option.kind === kind)?.kind).find((kind) => kind !== undefined);
}

const decisionSchema = z.enum(["allow", "reject"]).or(answerKind);

/** Written only by `answer`; parsed anyway, since a wrong one would reach the agent. */
function decisionOf(answer: string | null): Decision {
  return decisionSchema.parse(answer);
}
