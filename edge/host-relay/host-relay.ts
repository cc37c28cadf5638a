import { DurableObject } from "cloudflare:workers";
import { COMMANDS, deadlineOf, isStreamOp } from "../../shared/commands";
import { KaiError, messageOf, type WireError } from "../../shared/errors";
import {
  AGENT_SESSION_TOPIC,
  type AgentFrame,
  agentFrame,
  CLOSE_CODES,
  type HelloFrame,
  KEEPALIVE_PING,
  KEEPALIVE_PONG,
  parseFrame,
} from "../../shared/protocol";
import type { ApprovalOptionKind } from "../../shared/schemas/agent-sessions";
import { isOutdated } from "../../shared/version";
import { configFrom } from "../config";
import type { Bindings } from "../env";
import { type Ask, succeeded } from "../relay/relay";
import { AgentConnections, offline } from "./agent-connections";
import { AgentSessionHub } from "./agent-session-hub";
import type { AgentAttachment } from "./attachment";
import { readViewer } from "./attachment";
import { AuditBuffer } from "./audit-buffer";
import { checkedResult } from "./checked-result";
import { exactLogFrame } from "./exact-log-frame";
import { FeedQueue } from "./feed-queue";
import {
  AGENT_SESSION_HEADER,
  AGENT_SESSION_SINCE_HEADER,
  CONNECT_LEASE_HEADER,
  HOST_ID_HEADER,
  HOST_NAME_HEADER,
  HOST_OWNER_HEADER,
  VIEWER_CREDENTIAL_HEADER,
  VIEWER_FRAMES_HEADER,
  VIEWER_OP_HEADER,
  VIEWER_PARAMS_HEADER,
  VIEWER_REQUEST_HEADER,
} from "./headers";
import { HostEvents } from "./host-events";
import { HostStatsSwitch } from "./host-stats-switch";
import { OrderedWork } from "./ordered-work";
import { type Outcome, PendingRequests } from "./pending";
import { closeQuietly, sendToAgent } from "./to-agent";
import { Viewers } from "./viewers";
import { WebhookQueue } from "./webhook-queue";

export * from "./headers";

const NOT_CONNECTED = "the host agent is not connected; start kai-agent on that machine";

/** Whose command an audit row records: the Worker has already checked that the user owns the host. */
interface AuditSubject {
  userId: string;
  hostId: string;
}

/**
 * One per enrolled host: holds that host agent's WebSocket (Hibernation API) and relays
 * requests to it. Thin on purpose: accept, parse, resolve pending, fan out. The connection's
 * life (hello, replacement, offline) is agent-connections.ts, the agent's own events are
 * host-events.ts, webhooks leave through a queue off the socket path, and each socket hook
 * has one error boundary (#guard).
 */
export class HostRelay extends DurableObject<Bindings> {
  readonly #pending = new PendingRequests();
  readonly #viewers: Viewers;
  readonly #agents: AgentConnections;
  readonly #events: HostEvents;
  readonly #sessions: AgentSessionHub;
  readonly #audit: AuditBuffer;
  /** The owner's live event feed (edge/user-feed/). */
  readonly #feed: FeedQueue;
  readonly #stats: HostStatsSwitch;

  constructor(ctx: DurableObjectState, env: Bindings) {
    super(ctx, env);
    this.#viewers = new Viewers(ctx);
    this.#audit = new AuditBuffer(ctx.storage, env.DB);
    const work = new OrderedWork(ctx);
    this.#stats = new HostStatsSwitch(ctx.storage.kv, () => {
      const socket = this.#agents.live();
      const agent = socket ? this.#agents.attachment(socket) : undefined;
      return socket && agent ? { socket, agent } : undefined;
    });
    this.#feed = new FeedQueue(work, env, (epoch) => this.#stats.unwanted(epoch));
    const webhooks = new WebhookQueue(work, env, (userId, type, data) =>
      this.#feed.fromWebhook(userId, this.#name(), type, data),
    );
    this.#sessions = new AgentSessionHub(ctx, env, work, webhooks, this.#feed);
    this.#agents = new AgentConnections(ctx, env, { pending: this.#pending, viewers: this.#viewers }, webhooks, {
      welcomed: (agent) => this.#welcomed(agent),
      offline: (agent) => this.#sessions.hostOffline(agent),
    });
    this.#events = new HostEvents(env, webhooks, this.#feed);
    // Keepalive pings are answered by the runtime without waking this object.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(KEEPALIVE_PING, KEEPALIVE_PONG));
  }

  /**
   * Accepts an agent's socket, or a viewer's; the Worker has already authenticated either.
   * A new agent socket replaces the live one only once its own hello is accepted (#hello):
   * a stray dial with the token that then fails (another host in hello, an old protocol,
   * no hello at all) must not take the working connection down.
   */
  override async fetch(request: Request): Promise<Response> {
    try {
      if (request.headers.has(VIEWER_OP_HEADER)) return await this.#acceptViewer(request);
      if (request.headers.has(AGENT_SESSION_HEADER)) return this.#acceptSessionViewer(request);
      return await this.#acceptAgent(request);
    } catch (error) {
      const hostId = request.headers.get(HOST_ID_HEADER) ?? this.#name();
      console.error(`host ${hostId}: accepting a socket failed (${messageOf(error)})`);
      const refusal: WireError = { code: "INTERNAL_ERROR", message: "the edge could not open this connection" };
      return Response.json(refusal, { status: 500 });
    }
  }

  async #acceptAgent(request: Request): Promise<Response> {
    const hostId = request.headers.get(HOST_ID_HEADER);
    const hostName = request.headers.get(HOST_NAME_HEADER) ?? "";
    const userId = request.headers.get(HOST_OWNER_HEADER);
    if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket" || !hostId || !userId) {
      return new Response("expected a WebSocket upgrade from the edge", { status: 426 });
    }
    const lease = request.headers.get(CONNECT_LEASE_HEADER) ?? undefined;
    const { 0: client, 1: server } = new WebSocketPair();
    await this.#agents.accept(server, { hostId, hostName, userId, lease });
    // The agent learns which host its token belongs to from this header, and repeats it in hello.
    return new Response(null, { status: 101, webSocket: client, headers: { [HOST_ID_HEADER]: hostId } });
  }

  /**
   * Sends one request to the connected agent, waits for its answer, checks the result
   * against the command's schema and audits the call. Returns an outcome rather than
   * throwing: errors crossing Durable Object RPC lose their code.
   */
  async call(
    requestId: string,
    op: string,
    params: unknown,
    timeoutMs: number,
    subject: AuditSubject,
  ): Promise<Outcome> {
    const started = Date.now();
    const outcome = checkedResult(op, requestId, await this.#ask(requestId, op, params, timeoutMs));
    this.#record(subject, op, requestId, outcome.ok ? "ok" : outcome.error.code, started);
    return outcome;
  }

  /**
   * Commands this object sends on its own behalf (an agent session's sync, approval answers, a
   * viewer's frames), waited for and audited exactly as a Worker's `relay` would. Undefined
   * while no agent is connected.
   */
  #asker(): Ask | undefined {
    const socket = this.#agents.live();
    const agent = socket ? this.#agents.attachment(socket) : undefined;
    if (!agent) return undefined;
    const subject = { userId: agent.userId, hostId: agent.hostId };
    const waitMs = configFrom(this.env).AGENT_TIMEOUT_MS;
    return async (op, params) => {
      const outcome = await this.call(crypto.randomUUID(), op, params, waitMs + deadlineOf(op, params), subject);
      return succeeded(outcome).result as never;
    };
  }

  /** The owner's feed got its first viewer (edge/user-feed/): the agent's stats snapshots start. */
  async sendHostStats(epoch: number): Promise<void> {
    this.#stats.start(epoch);
  }

  /** A welcomed connection: the agent sessions catch up on what they missed while it was away. */
  #welcomed(agent: AgentAttachment): void {
    const { userId, hostId, hostName, hello } = agent;
    if (hello) {
      const { agentVersion, docker } = hello;
      const at = new Date().toISOString();
      const outdated = isOutdated(agentVersion);
      this.#feed.publish(userId, { type: "host.online", hostId, hostName, at, agentVersion, outdated, docker });
    }
    this.ctx.waitUntil(
      this.#releaseHelloAlarm().catch((error) => {
        console.error(`host ${agent.hostId}: releasing the hello check's alarm failed (${messageOf(error)})`);
      }),
    );
    const ask = this.#asker();
    if (!ask) return;
    const owner = { userId: agent.userId, hostId: agent.hostId };
    this.ctx.waitUntil(
      this.#sessions.reconnected(owner, ask).catch((error) => {
        console.error(`host ${agent.hostId}: syncing agent sessions failed (${messageOf(error)})`);
      }),
    );
  }

  /**
   * A hello arrived, so the alarm set for its deadline (AgentConnections.accept) has nothing left
   * to check, unless another dial still owes its hello, a retention sweep is planned or the audit
   * waits for a flush: it goes, or moves to the earliest of those. Left set, it woke every host's
   * object 10 s after each connect for nothing, which then stayed in memory 10 s more (an object
   * hibernates after 10 s without work): a fleet dialling back at once held twice the objects awake.
   */
  async #releaseHelloAlarm(): Promise<void> {
    const sweepAt = (await this.#sessions.sweepDueAt()) ?? Number.POSITIVE_INFINITY;
    const current = await this.ctx.storage.getAlarm();
    // Checked after the reads and written with no await in between: a command audited meanwhile
    // scheduled its own flush, which this must not cancel.
    if (current === null || !this.#audit.idle()) return;
    const next = Math.min(this.#agents.nextHelloDue() ?? Number.POSITIVE_INFINITY, sweepAt);
    if (!Number.isFinite(next)) await this.ctx.storage.deleteAlarm();
    else if (current < next) await this.ctx.storage.setAlarm(next);
  }

  /** A person's answer to an approval (REST); the Worker checked the session is theirs. */
  async answerApproval(
    sessionId: string,
    approvalId: string,
    decision: "allow" | "reject" | ApprovalOptionKind,
  ): Promise<Outcome> {
    try {
      const result = await this.#sessions.answer(sessionId, approvalId, decision, this.#asker());
      return { ok: true, result };
    } catch (error) {
      return outcomeOf(error);
    }
  }

  /**
   * One turn someone waits for (`POST /api/v1/agent-chats`): sends the message and answers with
   * the turn's messages once it is done, or AGENT_TIMEOUT after `timeoutMs` (the turn is then
   * cancelled, so the session stays usable). Approvals asked while no viewer watches are refused.
   */
  async runTurn(userId: string, sessionId: string, message: string, timeoutMs: number): Promise<Outcome> {
    const ask = this.#asker();
    if (!ask) return { ok: false, error: offline(NOT_CONNECTED) };
    try {
      return { ok: true, result: await this.#sessions.runTurn(userId, sessionId, message, timeoutMs, ask) };
    } catch (error) {
      return outcomeOf(error);
    }
  }

  /** Writes the buffered audit rows now, so a reader of the log sees every finished command. */
  async flushAudit(): Promise<void> {
    await this.#audit.flush();
  }

  /**
   * One alarm serves three needs: the audit buffer's flush, closing agent sockets that
   * never said hello, and the agent sessions' retention sweep (retention.ts). All run on every
   * ring, and each ring re-arms the next hello check and the next sweep; a welcome takes the
   * hello check's alarm back when nothing else needs it (#releaseHelloAlarm).
   * wakeBy only brings the alarm forward, so the audit's flush is never postponed; the
   * audit buffer sets its time without looking, so a hello check can ring late by its
   * flush delay (1 s), or a failing flush's retry (up to a minute), but is never lost.
   */
  override async alarm(): Promise<void> {
    await this.#audit.flush();
    await this.#agents.closeSilent();
    const config = configFrom(this.env);
    const retention = {
      sessionDays: config.AGENT_SESSION_RETENTION_DAYS,
      approvalDays: config.APPROVAL_RETENTION_DAYS,
      sessionRowDays: config.AGENT_SESSION_ROW_RETENTION_DAYS,
      auditDays: config.AUDIT_RETENTION_DAYS,
    };
    await this.#sessions.sweepIfDue(retention);
  }

  #ask(requestId: string, op: string, params: unknown, timeoutMs: number): Promise<Outcome> {
    const socket = this.#agents.live();
    if (!socket) return Promise.resolve({ ok: false, error: offline(NOT_CONNECTED) });
    const answer = this.#pending.wait(requestId, op, socket, timeoutMs, () => ({
      code: "AGENT_TIMEOUT",
      message: `the host agent did not answer ${op} within ${Math.round(timeoutMs / 1000)} s`,
    }));
    if (!sendToAgent(socket, { type: "req", id: requestId, op, params })) {
      this.#pending.settle(requestId, { ok: false, error: offline("the host agent's connection just closed") });
    }
    return answer;
  }

  /**
   * A viewer's socket for a streamed command (params already validated by the Worker).
   * Audited when the stream opens: how long a viewer keeps watching is not a command's duration.
   */
  async #acceptViewer(request: Request): Promise<Response> {
    const started = Date.now();
    const op = request.headers.get(VIEWER_OP_HEADER) ?? "";
    const requestId = request.headers.get(VIEWER_REQUEST_HEADER) ?? crypto.randomUUID();
    const subject = {
      userId: request.headers.get(HOST_OWNER_HEADER) ?? "",
      hostId: request.headers.get(HOST_ID_HEADER) ?? "",
    };
    const refuse = (error: WireError, status: number) => {
      this.#record(subject, op, requestId, error.code, started);
      return Response.json(error, { status });
    };
    const params = isStreamOp(op)
      ? COMMANDS[op].params.safeParse(JSON.parse(request.headers.get(VIEWER_PARAMS_HEADER) ?? "null"))
      : undefined;
    const agent = this.#agents.live();
    if (!isStreamOp(op) || !params?.success)
      return refuse({ code: "VALIDATION_ERROR", message: "invalid stream parameters" }, 400);
    if (!agent) return refuse(offline(NOT_CONNECTED), 503);
    const batched = request.headers.get(VIEWER_FRAMES_HEADER) === "batch";
    const client = this.#viewers.accept(requestId, op, request.headers.get(VIEWER_CREDENTIAL_HEADER), batched);
    if (!sendToAgent(agent, { type: "req", id: requestId, op, params: params.data })) {
      this.#viewers.end(requestId, { ok: false, error: offline("the host agent's connection just closed") });
      return refuse(offline("the host agent's connection just closed"), 503);
    }
    this.#record(subject, op, requestId, "ok", started);
    return new Response(null, { status: 101, webSocket: client });
  }

  /** A viewer of an agent session (`WS /api/v1/ws/agent-sessions/{id}`): replay after `since`, then live. */
  #acceptSessionViewer(request: Request): Response {
    const sessionId = request.headers.get(AGENT_SESSION_HEADER) ?? "";
    const since = Number(request.headers.get(AGENT_SESSION_SINCE_HEADER) ?? "0");
    const credential = request.headers.get(VIEWER_CREDENTIAL_HEADER);
    const client = this.#sessions.acceptViewer(sessionId, since, credential);
    return new Response(null, { status: 101, webSocket: client });
  }

  /** A session viewer's own frame: a message, a cancel or an answer; a refusal goes back to that viewer only. */
  async #sessionViewerFrame(socket: WebSocket, sessionId: string, text: string): Promise<void> {
    if (!this.#sessions.viewers.admit(socket)) return;
    const live = this.#agents.live();
    const agent = live ? this.#agents.attachment(live) : undefined;
    const ask = this.#asker();
    try {
      await this.#sessions.viewerFrame(sessionId, text, agent && ask ? { userId: agent.userId, ask } : undefined);
    } catch (error) {
      const { code, message } = error instanceof KaiError ? error : new KaiError("INTERNAL_ERROR", messageOf(error));
      // Not numbered: it answers this viewer's own frame and is not part of the session's messages.
      socket.send(JSON.stringify({ type: "error", error: message, code }));
    }
  }

  #record(subject: AuditSubject, op: string, requestId: string, outcome: string, started: number): void {
    if (!subject.userId || !subject.hostId) return;
    // The rows must age out: the host's retention sweep deletes old ones (retention.ts).
    this.#sessions.planSweep({ userId: subject.userId, hostId: subject.hostId });
    this.#audit.add({
      id: crypto.randomUUID(),
      ...subject,
      op,
      requestId,
      outcome,
      durationMs: Date.now() - started,
      createdAt: new Date(),
    });
  }

  /** Whether an agent is connected, and what it said about itself. */
  async status(): Promise<{ connected: boolean; hello: HelloFrame | null }> {
    const socket = this.#agents.live();
    return { connected: Boolean(socket), hello: socket ? (this.#agents.attachment(socket)?.hello ?? null) : null };
  }

  /**
   * Closes the viewers that `credential` opened (it was revoked, or its session ended): each
   * gets an UNAUTHORIZED error frame and close code CREDENTIAL_REVOKED, and the agent stops
   * their streams. Returns how many were closed.
   */
  async closeViewers(credential: string): Promise<number> {
    const requestIds = this.#viewers.closeOpenedWith(credential, {
      code: "UNAUTHORIZED",
      message:
        "the credential that opened this stream was revoked or its session ended; sign in again and reopen the stream",
    });
    const agent = this.#agents.live();
    if (agent) for (const requestId of requestIds) sendToAgent(agent, { type: "cancel", id: requestId });
    return requestIds.length + this.#sessions.viewers.closeOpenedWith(credential);
  }

  /** Closes the agent's socket at once, e.g. when its host is deleted and its token revoked. */
  async disconnect(code: number, reason: string): Promise<void> {
    this.#agents.closeAll(code, reason);
  }

  override async webSocketMessage(socket: WebSocket, message: string | ArrayBuffer): Promise<void> {
    await this.#guard(socket, "a message", () => this.#received(socket, message));
  }

  override async webSocketClose(socket: WebSocket, code: number, reason: string): Promise<void> {
    const why = `the host agent disconnected (${code}${reason ? `: ${reason}` : ""})`;
    await this.#guard(socket, "a close", () =>
      this.#isViewer(socket) ? this.#viewerLeft(socket) : this.#agents.dropped(socket, why),
    );
  }

  override async webSocketError(socket: WebSocket): Promise<void> {
    const why = "the host agent's connection failed";
    await this.#guard(socket, "a socket error", () =>
      this.#isViewer(socket) ? this.#viewerLeft(socket) : this.#agents.dropped(socket, why),
    );
  }

  /**
   * The one error boundary of the socket hooks: a bug while handling a socket is logged with
   * the host and closes that socket with 1011 (which kai-agent answers by dialling again),
   * instead of escaping into the runtime and leaving the socket in an unknown state.
   */
  async #guard(socket: WebSocket, what: string, work: () => void | Promise<void>): Promise<void> {
    try {
      await work();
    } catch (error) {
      const hostId = this.#agents.attachment(socket)?.hostId ?? this.#name();
      console.error(`host ${hostId}: handling ${what} failed (${messageOf(error)}); closing the socket with 1011`);
      this.#pending.failSocket(socket, offline("the edge closed the host agent's connection after an internal error"));
      closeQuietly(socket, 1011, "internal error");
      this.#agents.freeTurn(socket);
    }
  }

  async #received(socket: WebSocket, message: string | ArrayBuffer): Promise<void> {
    // The agent's socket is known from its cached attachment; only another socket is asked
    // for its tags, a call into the runtime that cost a sixth of the object's time on a log
    // follow's frames when every frame from the agent asked it twice.
    const attachment = this.#agents.attachment(socket);
    if (!attachment) {
      const watched = this.#sessions.viewers.sessionOf(socket);
      if (watched) return typeof message === "string" ? this.#sessionViewerFrame(socket, watched, message) : undefined;
      if (this.#viewers.isViewer(socket)) return; // stream viewers only listen
    }
    // A busy log follow's frame, as kai-agent writes it, goes to batched viewers unparsed.
    const exact =
      attachment?.hello && typeof message === "string"
        ? exactLogFrame(message, (id, seq) => this.#viewers.takesExactLog(id, seq))
        : undefined;
    if (exact && this.#viewers.exactLogChunks(exact)) return;
    const frame = typeof message === "string" ? parseFrame(agentFrame, message) : undefined;
    if (!attachment || !frame) return this.#agents.refuse(socket, CLOSE_CODES.PROTOCOL_ERROR, "invalid frame");

    if (frame.type === "hello") return this.#agents.hello(socket, attachment, frame);
    if (!attachment.hello) return this.#agents.refuse(socket, CLOSE_CODES.HELLO_REQUIRED, "send hello first");

    switch (frame.type) {
      case "res": {
        const outcome: Outcome = frame.ok ? { ok: true, result: frame.result } : { ok: false, error: frame.error };
        if (!this.#viewers.end(frame.id, outcome)) this.#pending.settle(frame.id, outcome);
        return;
      }
      case "chunk":
      case "chunks":
        return this.#chunks(socket, frame);
      case "event":
        if (frame.topic === AGENT_SESSION_TOPIC)
          return this.#sessions.received(attachment, frame.data, () => this.#asker());
        return this.#events.received(attachment, frame.topic, frame.data);
    }
  }

  /** Hands a stream's chunks to its viewers, or to the waiting call that collects them. */
  #chunks(socket: WebSocket, frame: Extract<AgentFrame, { type: "chunk" | "chunks" }>): void {
    const values = frame.type === "chunk" ? [frame.data] : frame.data;
    if (this.#viewers.chunks(frame.id, frame.seq, values) || this.#pending.collect(frame.id, frame.seq, values)) return;
    // Nobody watches this stream any more (its viewer left while we slept): stop it.
    sendToAgent(socket, { type: "cancel", id: frame.id });
  }

  #isViewer(socket: WebSocket): boolean {
    return this.#viewers.isViewer(socket) || this.#sessions.viewers.isSessionViewer(socket);
  }

  /** A viewer hung up: the agent stops the stream at once (an agent session runs on without its viewers). */
  #viewerLeft(socket: WebSocket): void {
    const viewer = readViewer(socket);
    closeQuietly(socket, 1000, "bye");
    const agent = this.#agents.live();
    if (viewer && agent) sendToAgent(agent, { type: "cancel", id: viewer.requestId });
  }

  /** This object's host, for log lines about a socket whose attachment says nothing (a viewer's). */
  #name(): string {
    return this.ctx.id.name ?? this.ctx.id.toString();
  }
}

/** An error as an outcome: errors crossing Durable Object RPC lose their code, outcomes keep it. */
function outcomeOf(error: unknown): Outcome {
  if (error instanceof KaiError) return { ok: false, error: { code: error.code, message: error.message } };
  return { ok: false, error: { code: "INTERNAL_ERROR", message: messageOf(error) } };
}
