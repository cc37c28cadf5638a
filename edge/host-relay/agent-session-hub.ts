import { KaiError, messageOf } from "../../shared/errors";
import {
  type AgentMessage,
  type AgentSessionNotice,
  type AgentSessionState,
  type ApprovalInfo,
  agentSessionClientFrame,
  agentSessionEvent,
  agentSessionState as stateSchema,
} from "../../shared/schemas/agent-sessions";
import {
  applyState,
  findOwnSession,
  liveSessionsOfHost,
  markHostSessionsDisconnected,
  recordApproval,
  settleApproval,
} from "../agent-sessions/store";
import { startTurn } from "../agent-sessions/turns";
import { database } from "../db/client";
import type { Bindings } from "../env";
import type { Ask } from "../relay/relay";
import { ApprovalBook, type Decision } from "./approval-book";
import type { FeedQueue } from "./feed-queue";
import type { OrderedWork } from "./ordered-work";
import { type Retention, RetentionSchedule, sweep } from "./retention";
import { SessionLog } from "./session-log";
import { SessionViewers } from "./session-viewers";
import type { WebhookQueue } from "./webhook-queue";

/** A turn someone waits for synchronously (`POST /api/v1/agent-chats`). */
interface Waiter {
  sessionId: string;
  events: AgentMessage[];
  settle: (events: AgentMessage[]) => void;
}

/**
 * The way to the agent, asked for only when a message needs it: finding the live connection
 * and its settings is not work for every message of a busy stream.
 */
type AskFor = () => Ask | undefined;

/** The host's owner: every session on a host belongs to the user who enrolled it. */
interface Owner {
  userId: string;
  hostId: string;
}

/**
 * The agent sessions of one host, inside its relay: the messages kai-agent sends are numbered
 * by session, stored (session-log.ts), fanned out to the session's viewers
 * (session-viewers.ts), and their approvals recorded (approval-book.ts, and D1 for the
 * cross-host inbox). D1's session rows change on state transitions only, through the host's
 * ordered work, never per message.
 */
export class AgentSessionHub {
  readonly #log: SessionLog;
  readonly #approvals: ApprovalBook;
  readonly #viewers: SessionViewers;
  readonly #retention: RetentionSchedule;
  readonly #waiters = new Map<string, Waiter>();
  /** Sessions with a sync in flight, so a burst of out-of-order messages asks once. */
  readonly #syncing = new Set<string>();
  /** Whether this object's life already planned a sweep: the audit path asks per command. */
  #sweepPlanned = false;

  constructor(
    private readonly ctx: DurableObjectState,
    private readonly env: Bindings,
    private readonly work: OrderedWork,
    private readonly webhooks: WebhookQueue,
    /** The owner's live feed: status changes and settled approvals, which are no webhooks. */
    private readonly feed?: FeedQueue,
  ) {
    this.#log = new SessionLog(ctx.storage.sql);
    this.#approvals = new ApprovalBook(ctx.storage.sql);
    this.#viewers = new SessionViewers(ctx);
    this.#retention = new RetentionSchedule(ctx.storage);
  }

  get viewers(): SessionViewers {
    return this.#viewers;
  }

  /** A viewer of the session from `since` on: the log's replay, the withdrawn approvals, then live. */
  acceptViewer(sessionId: string, since: number, credential: string | null): WebSocket {
    const notices = () =>
      this.#approvals.withdrawn(sessionId).map(({ toolCallId, approval }) => withdrawal(toolCallId, approval));
    return this.#viewers.accept(sessionId, since, credential, this.#log, notices);
  }

  /** An `agent.session` event from kai-agent. */
  received(owner: Owner, data: unknown, ask: AskFor): void {
    const event = agentSessionEvent.safeParse(data);
    if (!event.success) {
      console.error(`host ${owner.hostId}: an agent.session event does not match its schema; dropped`);
      return;
    }
    const { sessionId } = event.data;
    if (event.data.kind === "message") this.#message(owner, sessionId, event.data.message, ask);
    else if (event.data.kind === "messages") {
      // One event, one storage commit for all of them: the object's writes commit per event.
      for (const message of event.data.messages) this.#message(owner, sessionId, message, ask);
    } else this.#state(owner, sessionId, event.data.state);
  }

  #message(owner: Owner, sessionId: string, message: AgentMessage, ask: AskFor): void {
    const stored = this.#log.append(sessionId, message);
    // A gap: the agent re-sends everything after the last stored one, in order.
    if (stored === "gap") this.#requestSync(owner, sessionId, ask());
    if (stored !== "stored") return;
    const watchers = this.#viewers.broadcast(sessionId, message);
    const approval = message.approval;
    const db = approval ? database(this.env.DB) : undefined;
    if (approval?.state === "pending" && db) {
      this.#approvals.requested(sessionId, approval, message.tool_call_id, message.seq);
      this.work.add("recording an approval", () => recordApproval(db, { ...owner, sessionId, message, approval }));
      this.webhooks.emit(owner.userId, "session.approval_requested", {
        sessionId,
        hostId: owner.hostId,
        approvalId: approval.id,
        tool: message.tool ?? null,
        title: message.content ?? null,
      });
      // A turn someone waits for synchronously (agent-chats) that nobody watches cannot be approved
      // by anyone: its tool calls that need approval are refused at once rather than left to expire.
      if (watchers === 0 && message.run_id && this.#waiters.has(message.run_id)) {
        void this.answer(sessionId, approval.id, "reject", ask()).catch(() => undefined);
      }
    } else if (approval && db) {
      this.#approvals.settled(sessionId, approval);
      this.work.add("settling an approval", () => settleApproval(db, approval, owner.hostId));
      this.feed?.session(owner, "session.approval_resolved", sessionId, {
        approvalId: approval.id,
        state: approval.state,
      });
    }
    const waiter = message.run_id ? this.#waiters.get(message.run_id) : undefined;
    if (waiter) {
      waiter.events.push(message);
      if (message.type === "done" || message.type === "error") {
        this.#waiters.delete(message.run_id ?? "");
        waiter.settle(waiter.events);
      }
    }
    if (message.type === "done") {
      const stopReason = message.content ?? null;
      this.webhooks.emit(owner.userId, "session.turn_completed", { sessionId, runId: message.run_id, stopReason });
    }
  }

  #state(owner: Owner, sessionId: string, state: AgentSessionState): void {
    const db = database(this.env.DB);
    this.work.add("recording an agent session's state", () =>
      applyState(db, sessionId, state, undefined, owner.hostId),
    );
    this.feed?.session(owner, "session.status", sessionId, { status: state.status });
    if (state.status === "ended") this.webhooks.emit(owner.userId, "session.ended", { sessionId });
    if (state.status === "failed") {
      this.webhooks.emit(owner.userId, "session.failed", { sessionId, error: state.error ?? null });
    }
    if (state.status === "interrupted" || state.status === "failed" || state.status === "ended") {
      this.#processGone(owner, sessionId);
    }
    if (state.status === "failed" || state.status === "ended") this.planSweep(owner);
  }

  /** A retention sweep within a day, once per object's life (a planned one is kept, see plan). */
  planSweep(owner: Owner): void {
    if (this.#sweepPlanned) return;
    this.#sweepPlanned = true;
    const planned = this.#retention.plan(owner);
    this.ctx.waitUntil(
      planned.catch((error) => console.error(`planning a retention sweep failed (${messageOf(error)})`)),
    );
  }

  /** When the next retention sweep is due (the object's alarm must ring by then); undefined when none is planned. */
  sweepDueAt(): Promise<number | undefined> {
    return this.#retention.plannedAt();
  }

  /** Retention, from the object's alarm: sweeps when one is due (retention.ts) and plans the next. */
  async sweepIfDue(retention: Retention, now = Date.now()): Promise<void> {
    const owner = await this.#retention.due(now);
    if (!owner) return;
    try {
      const more = await sweep(
        database(this.env.DB),
        { log: this.#log, approvals: this.#approvals },
        owner,
        retention,
        now,
      );
      await this.#retention.swept(owner, more ? "more" : "done", now);
      this.#sweepPlanned = more; // after a last sweep, the next session end or command plans again
    } catch (error) {
      console.error(`host ${owner.hostId}: the retention sweep failed (${messageOf(error)}); retried in an hour`);
      await this.#retention.swept(owner, "failed", now);
    }
  }

  /**
   * The session's agent process is gone (it crashed, kai-agent restarted, the session ended):
   * a turn someone waits for ends for them without its done, and the approvals it asked for
   * can never be answered, so they leave the inbox as withdrawn instead of waiting to expire.
   * Its viewers are told with an unnumbered notice: the seq is the agent's to give, and a
   * restored process numbers on from the last one it gave.
   */
  #processGone(owner: Owner, sessionId: string): void {
    for (const [runId, waiter] of this.#waiters) {
      if (waiter.sessionId !== sessionId) continue;
      this.#waiters.delete(runId);
      waiter.settle(waiter.events);
    }
    const db = database(this.env.DB);
    for (const open of this.#approvals.pending(sessionId)) {
      const approval = {
        id: open.approvalId,
        state: "cancelled" as const,
        options: open.options,
        expires_at: open.expiresAt,
        reason: "withdrawn" as const,
      };
      this.#approvals.settled(sessionId, approval);
      this.#viewers.notify(sessionId, withdrawal(open.toolCallId, approval));
      this.work.add("withdrawing an approval", () => settleApproval(db, approval, owner.hostId));
    }
  }

  /**
   * A person's answer (REST or a viewer socket). The first answer wins; it is delivered to the
   * agent now if it is connected, or when it reconnects (`reconnected`).
   */
  async answer(
    sessionId: string,
    approvalId: string,
    decision: Decision,
    ask: Ask | undefined,
  ): Promise<{ approval_id: string; decision: Decision; delivered: boolean }> {
    const open = this.#approvals.pending(sessionId).find((approval) => approval.approvalId === approvalId);
    const verdict = this.#approvals.answer(sessionId, approvalId, decision);
    if (verdict === "not_found") throw new KaiError("NOT_FOUND", "no such approval in this session");
    if (verdict === "already_resolved") {
      throw new KaiError("CONFLICT", "this approval is already resolved (answered elsewhere, expired or cancelled)");
    }
    if (verdict === "no_such_option") {
      throw new KaiError("VALIDATION_ERROR", `this approval offers no option for '${decision}'`, {
        details: { fields: { decision: [`offered: ${open?.options.map((option) => option.kind).join(", ")}`] } },
      });
    }
    const delivered = ask ? await this.#deliver(ask, approvalId) : false;
    return { approval_id: approvalId, decision, delivered };
  }

  /**
   * Sends every answer the agent has not received yet; one it refuses (expired meanwhile) is
   * settled by its own report. Says whether `wanted` reached the agent.
   */
  async #deliver(ask: Ask, wanted?: string): Promise<boolean> {
    let reached = false;
    for (const answer of this.#approvals.undelivered()) {
      try {
        await ask("agentSession.answer", {
          sessionId: answer.sessionId,
          approvalId: answer.approvalId,
          kind: answer.kind,
        });
        this.#approvals.delivered(answer.approvalId);
        if (answer.approvalId === wanted) reached = true;
      } catch (error) {
        if (error instanceof KaiError && (error.code === "CONFLICT" || error.code === "NOT_FOUND")) {
          // Settled on the agent already (expired, withdrawn, the session gone): its own report says how.
          this.#approvals.delivered(answer.approvalId);
        } else {
          console.error(`delivering approval ${answer.approvalId} failed (${messageOf(error)}); retried on reconnect`);
          return reached;
        }
      }
    }
    return reached;
  }

  /**
   * The agent is back: it re-sends what the log lacks of each session it still runs (as events,
   * before its reply), says what it knows, and receives the answers given while it was away.
   */
  async reconnected(owner: Owner, ask: Ask): Promise<void> {
    // Sessions may have ended meanwhile without their state reaching this object (DELETE of an interrupted one).
    if (this.#log.held().length > 0) this.planSweep(owner);
    const known = await liveSessionsOfHost(database(this.env.DB), owner.hostId);
    if (known.length > 0) await this.#sync(owner, known, ask);
    await this.#deliver(ask);
  }

  #requestSync(owner: Owner, sessionId: string, ask: Ask | undefined): void {
    if (!ask || this.#syncing.has(sessionId)) return;
    this.#syncing.add(sessionId);
    const synced = this.#sync(owner, [sessionId], ask)
      .catch((error) => console.error(`agent session ${sessionId}: sync failed (${messageOf(error)})`))
      .finally(() => this.#syncing.delete(sessionId));
    this.ctx.waitUntil(synced);
  }

  /**
   * Asks the agent to re-send what the log lacks after each session's last seq (as events,
   * before its reply) and takes the states it reports. Messages the agent no longer holds (its
   * buffer is bounded) are recorded as one `error` standing for them, numbered as the last one
   * lost, and a second round fetches what followed them, which the first could not store yet.
   */
  async #sync(owner: Owner, sessionIds: string[], ask: Ask): Promise<void> {
    let pending = sessionIds;
    for (let round = 0; round < 2 && pending.length > 0; round++) {
      const sessions = pending.map((sessionId) => ({ sessionId, lastSeq: this.#log.lastSeq(sessionId) }));
      const reply = await ask("agentSession.sync", { sessions });
      pending = [];
      for (const entry of reply.sessions) {
        this.#state(owner, entry.sessionId, stateSchema.parse(entry.state));
        if (entry.lost && entry.lost.to > this.#log.lastSeq(entry.sessionId)) {
          this.#viewers.broadcast(entry.sessionId, this.#log.markLost(entry.sessionId, entry.lost));
          pending.push(entry.sessionId);
        }
      }
    }
  }

  /** The host's connection is gone: its running sessions are `disconnected` until it returns. */
  hostOffline(owner: Owner): void {
    const db = database(this.env.DB);
    this.work.add("marking agent sessions disconnected", () => markHostSessionsDisconnected(db, owner.hostId));
  }

  /** A viewer's own frame: a message, a cancel or an answer, as its REST route would do. */
  async viewerFrame(sessionId: string, text: string, agent: { userId: string; ask: Ask } | undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    const frame = agentSessionClientFrame.safeParse(parsed);
    if (!frame.success) {
      throw new KaiError("VALIDATION_ERROR", "send {type:'message',content}, {type:'cancel'} or {type:'approval',...}");
    }
    if (frame.data.type === "approval") {
      // An answer is kept and delivered when the agent is back, as over REST.
      await this.answer(sessionId, frame.data.approval_id, frame.data.decision, agent?.ask);
      return;
    }
    if (!agent) throw new KaiError("AGENT_OFFLINE", "the host agent is not connected; try again once it is back");
    if (frame.data.type === "cancel") {
      await agent.ask("agentSession.cancel", { sessionId });
      return;
    }
    const db = database(this.env.DB);
    await startTurn(db, agent.ask, await findOwnSession(db, agent.userId, sessionId), frame.data.content);
  }

  /**
   * One turn someone waits for (`POST /api/v1/agent-chats`): sends the message and answers with
   * the turn's messages once it is done, or AGENT_TIMEOUT after `timeoutMs` (the turn is then
   * cancelled, so the session stays usable). Approvals asked while no viewer watches are refused.
   */
  async runTurn(userId: string, sessionId: string, message: string, timeoutMs: number, ask: Ask) {
    const runId = crypto.randomUUID();
    const done = new Promise<AgentMessage[]>((settle) => this.#waiters.set(runId, { sessionId, events: [], settle }));
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const db = database(this.env.DB);
      await startTurn(db, ask, await findOwnSession(db, userId, sessionId), message, runId);
      const timedOut = new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), timeoutMs);
      });
      const messages = await Promise.race([done, timedOut]);
      if (messages === "timeout") {
        await ask("agentSession.cancel", { sessionId }).catch(() => undefined);
        throw new KaiError(
          "AGENT_TIMEOUT",
          `the turn did not finish within ${Math.round(timeoutMs / 1000)} s and was cancelled; ` +
            "the session is still usable (follow long turns on its WebSocket instead)",
        );
      }
      return { runId, messages };
    } finally {
      clearTimeout(timer);
      this.#waiters.delete(runId);
    }
  }
}

/** The notice of an approval withdrawn by the edge: its resolution's shape, without a seq. */
function withdrawal(toolCallId: string | null, approval: ApprovalInfo): AgentSessionNotice {
  return { type: "tool_use", ...(toolCallId ? { tool_call_id: toolCallId } : {}), approval };
}
