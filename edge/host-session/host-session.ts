import { DurableObject } from "cloudflare:workers";
import { COMMANDS, isStreamOp } from "../../shared/commands";
import type { WireError } from "../../shared/errors";
import {
  type AgentFrame,
  agentFrame,
  CLOSE_CODES,
  CONTAINER_EVENT_TOPIC,
  DOCKER_STATE_TOPIC,
  dockerState,
  type HelloFrame,
  KEEPALIVE_PING,
  KEEPALIVE_PONG,
  MIN_PROTOCOL_VERSION,
  PROTOCOL_VERSION,
  parseFrame,
} from "../../shared/protocol";
import { containerEvent } from "../../shared/schemas/services";
import { database } from "../db/client";
import type { Bindings } from "../env";
import { markHostOffline, markHostOnline, recordDockerState } from "../hosts/presence";
import { KillMemory, webhookEventsFor } from "../webhooks/events";
import { wakeBy } from "./alarm";
import { AGENT_TAG, AttachmentCache, readAttachment, readViewer, type SocketAttachment } from "./attachment";
import { AuditBuffer } from "./audit-buffer";
import { checkedResult } from "./checked-result";
import {
  HOST_ID_HEADER,
  HOST_NAME_HEADER,
  HOST_OWNER_HEADER,
  VIEWER_CREDENTIAL_HEADER,
  VIEWER_OP_HEADER,
  VIEWER_PARAMS_HEADER,
  VIEWER_REQUEST_HEADER,
} from "./headers";
import { type Outcome, PendingRequests } from "./pending";
import { closeQuietly, sendToAgent } from "./to-agent";
import { Viewers } from "./viewers";
import { WebhookQueue } from "./webhook-queue";

export * from "./headers";

/**
 * An agent socket that has not said hello this long after its upgrade is closed. kai-agent
 * says it as soon as the socket opens; a dial that never does must not linger.
 */
export const HELLO_TIMEOUT_MS = 10_000;

const offline = (message: string): WireError => ({ code: "AGENT_OFFLINE", message });
const NOT_CONNECTED = "the host agent is not connected; start kai-agent on that machine";

/** Whose command an audit row records: the Worker has already checked that the user owns the host. */
interface AuditSubject {
  userId: string;
  hostId: string;
}

/**
 * One per enrolled host: holds that host agent's WebSocket (Hibernation API) and relays
 * requests to it. Thin on purpose: accept, parse, resolve pending, fan out. The host's row
 * is written through edge/hosts/presence.ts, webhooks leave through a queue off the socket
 * path, and each socket hook has one error boundary (#guard).
 */
export class HostSession extends DurableObject<Bindings> {
  readonly #pending = new PendingRequests();
  readonly #kills = new KillMemory();
  readonly #viewers: Viewers;
  readonly #audit: AuditBuffer;
  readonly #webhooks: WebhookQueue;
  /** Agent socket state, read once per socket while awake instead of on every frame. */
  readonly #attachments = new AttachmentCache<SocketAttachment>(readAttachment);
  /** Agent sockets whose hello is being recorded right now (memory only: the object cannot hibernate mid-await). */
  readonly #greeting = new WeakSet<WebSocket>();

  constructor(ctx: DurableObjectState, env: Bindings) {
    super(ctx, env);
    this.#viewers = new Viewers(ctx);
    this.#audit = new AuditBuffer(ctx.storage, env.DB);
    this.#webhooks = new WebhookQueue(ctx, env);
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
      return await this.#acceptAgent(request);
    } catch (error) {
      const hostId = request.headers.get(HOST_ID_HEADER) ?? this.#name();
      console.error(`host ${hostId}: accepting a socket failed (${describe(error)})`);
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
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server, [AGENT_TAG]);
    try {
      const connectedAt = Date.now();
      this.#attachments.set(server, { hostId, hostName, userId, connectedAt, hello: null });
      await wakeBy(this.ctx.storage, connectedAt + HELLO_TIMEOUT_MS);
    } catch (error) {
      closeQuietly(server, 1011, "internal error");
      throw error;
    }
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

  /** Writes the buffered audit rows now, so a reader of the log sees every finished command. */
  async flushAudit(): Promise<void> {
    await this.#audit.flush();
  }

  /**
   * One alarm serves two needs: the audit buffer's flush, and closing agent sockets that
   * never said hello. Both run on every ring, and each ring re-arms the next hello check.
   * wakeBy only brings the alarm forward, so the audit's flush is never postponed; the
   * audit buffer sets its time without looking, so a hello check can ring late by its
   * flush delay (1 s), or a failing flush's retry (up to a minute), but is never lost.
   */
  override async alarm(): Promise<void> {
    await this.#audit.flush();
    await this.#closeSilent();
  }

  /** Closes agent sockets past their hello deadline, and sets the alarm for the next one due. */
  async #closeSilent(): Promise<void> {
    let next = Number.POSITIVE_INFINITY;
    for (const socket of this.ctx.getWebSockets(AGENT_TAG)) {
      const attachment = this.#attachments.get(socket);
      if (attachment?.hello || this.#greeting.has(socket)) continue;
      const due = (attachment?.connectedAt ?? 0) + HELLO_TIMEOUT_MS;
      if (due <= Date.now())
        this.#refuse(socket, CLOSE_CODES.HELLO_REQUIRED, `no hello within ${HELLO_TIMEOUT_MS / 1000} s`);
      else next = Math.min(next, due);
    }
    if (Number.isFinite(next)) await wakeBy(this.ctx.storage, next);
  }

  #ask(requestId: string, op: string, params: unknown, timeoutMs: number): Promise<Outcome> {
    const socket = this.#liveSocket();
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
    const agent = this.#liveSocket();
    if (!isStreamOp(op) || !params?.success)
      return refuse({ code: "VALIDATION_ERROR", message: "invalid stream parameters" }, 400);
    if (!agent) return refuse(offline(NOT_CONNECTED), 503);
    const client = this.#viewers.accept(requestId, op, request.headers.get(VIEWER_CREDENTIAL_HEADER));
    if (!sendToAgent(agent, { type: "req", id: requestId, op, params: params.data })) {
      this.#viewers.end(requestId, { ok: false, error: offline("the host agent's connection just closed") });
      return refuse(offline("the host agent's connection just closed"), 503);
    }
    this.#record(subject, op, requestId, "ok", started);
    return new Response(null, { status: 101, webSocket: client });
  }

  #record(subject: AuditSubject, op: string, requestId: string, outcome: string, started: number): void {
    if (!subject.userId || !subject.hostId) return;
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
    const socket = this.#liveSocket();
    return { connected: Boolean(socket), hello: socket ? (this.#attachments.get(socket)?.hello ?? null) : null };
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
    const agent = this.#liveSocket();
    if (agent) for (const requestId of requestIds) sendToAgent(agent, { type: "cancel", id: requestId });
    return requestIds.length;
  }

  /** Closes the agent's socket at once, e.g. when its host is deleted and its token revoked. */
  async disconnect(code: number, reason: string): Promise<void> {
    this.#viewers.failAll(offline(reason));
    for (const socket of this.ctx.getWebSockets(AGENT_TAG)) {
      this.#pending.failSocket(socket, offline(reason));
      closeQuietly(socket, code, reason);
    }
  }

  override async webSocketMessage(socket: WebSocket, message: string | ArrayBuffer): Promise<void> {
    await this.#guard(socket, "a message", () => this.#received(socket, message));
  }

  override async webSocketClose(socket: WebSocket, code: number, reason: string): Promise<void> {
    const why = `the host agent disconnected (${code}${reason ? `: ${reason}` : ""})`;
    await this.#guard(socket, "a close", () =>
      this.#viewers.isViewer(socket) ? this.#viewerLeft(socket) : this.#dropped(socket, why),
    );
  }

  override async webSocketError(socket: WebSocket): Promise<void> {
    const why = "the host agent's connection failed";
    await this.#guard(socket, "a socket error", () =>
      this.#viewers.isViewer(socket) ? this.#viewerLeft(socket) : this.#dropped(socket, why),
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
      const hostId = this.#attachments.get(socket)?.hostId ?? this.#name();
      console.error(`host ${hostId}: handling ${what} failed (${describe(error)}); closing the socket with 1011`);
      this.#pending.failSocket(socket, offline("the edge closed the host agent's connection after an internal error"));
      closeQuietly(socket, 1011, "internal error");
    }
  }

  async #received(socket: WebSocket, message: string | ArrayBuffer): Promise<void> {
    if (this.#viewers.isViewer(socket)) return; // viewers only listen
    const attachment = this.#attachments.get(socket);
    const frame = typeof message === "string" ? parseFrame(agentFrame, message) : undefined;
    if (!attachment || !frame) return this.#refuse(socket, CLOSE_CODES.PROTOCOL_ERROR, "invalid frame");

    if (frame.type === "hello") return this.#hello(socket, attachment, frame);
    if (!attachment.hello) return this.#refuse(socket, CLOSE_CODES.HELLO_REQUIRED, "send hello first");

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
        return this.#hostEvent(attachment, frame.topic, frame.data);
    }
  }

  /** Hands a stream's chunks to its viewers, or to the waiting call that collects them. */
  #chunks(socket: WebSocket, frame: Extract<AgentFrame, { type: "chunk" | "chunks" }>): void {
    const items = frame.type === "chunk" ? [frame.data] : frame.data;
    if (this.#viewers.chunks(frame.id, frame.seq, items) || this.#pending.collect(frame.id, frame.seq, items)) return;
    // Nobody watches this stream any more (its viewer left while we slept): stop it.
    sendToAgent(socket, { type: "cancel", id: frame.id });
  }

  /**
   * Accepts one hello per socket: a second one, even while the first is being recorded, is
   * a protocol error that closes the socket. A real agent never sends two; each would
   * announce the host online again, and closing (rather than ignoring) keeps a confused or
   * hostile client from holding a connection it misuses. The hello is stored with the
   * socket, which makes it the one requests go to, only after D1 recorded it: a failed write
   * closes the socket (the agent dials again) rather than leave an agent that is relayed to
   * but was never welcomed. Only then is the previous connection of this host replaced.
   */
  async #hello(socket: WebSocket, attachment: SocketAttachment, hello: HelloFrame): Promise<void> {
    if (attachment.hello || this.#greeting.has(socket)) {
      return this.#refuse(socket, CLOSE_CODES.PROTOCOL_ERROR, "hello was already sent on this connection");
    }
    if (hello.protocolVersion < MIN_PROTOCOL_VERSION) {
      return this.#refuse(
        socket,
        CLOSE_CODES.VERSION_UNSUPPORTED,
        `protocol ${hello.protocolVersion} is too old; upgrade kai-agent`,
      );
    }
    if (hello.hostId !== attachment.hostId) {
      return this.#refuse(socket, CLOSE_CODES.PROTOCOL_ERROR, "hello names another host than the token");
    }
    this.#greeting.add(socket);
    try {
      await markHostOnline(database(this.env.DB), attachment.hostId, hello);
    } catch (error) {
      this.#greeting.delete(socket);
      console.error(`host ${attachment.hostId}: recording the agent's hello failed (${describe(error)})`);
      // 1011 (internal error) is not a final close for kai-agent: it dials again with backoff.
      return this.#refuse(socket, 1011, "the edge could not record this connection; reconnect in a moment");
    }
    this.#greeting.delete(socket);
    if (socket.readyState !== WebSocket.OPEN) {
      // It left (or was closed) while the row was written, before any welcome or host.online:
      // the row goes back to offline, unannounced, unless another connection is live.
      if (!this.#liveSocket()) await markHostOffline(database(this.env.DB), attachment.hostId);
      return;
    }
    this.#attachments.set(socket, { ...attachment, hello });
    this.#replaceOthers(socket);
    const { hostId, hostName, userId } = attachment;
    sendToAgent(socket, { type: "welcome", protocolVersion: PROTOCOL_VERSION, hostId, hostName });
    this.#webhooks.emit(userId, "host.online", { hostId, hostName, agentVersion: hello.agentVersion });
  }

  /**
   * `current` was just welcomed: the host's older connections are closed with REPLACED,
   * failing what was in flight on them. The streams viewers watch ran on the old agent
   * connection, which the new one knows nothing of, so they end too.
   */
  #replaceOthers(current: WebSocket): void {
    let replaced = false;
    for (const previous of this.ctx.getWebSockets(AGENT_TAG)) {
      if (previous === current || !this.#attachments.get(previous)?.hello) continue;
      replaced = true;
      this.#pending.failSocket(previous, offline("the host agent reconnected; retry the request"));
      closeQuietly(previous, CLOSE_CODES.REPLACED, "replaced by a newer connection of this host");
    }
    if (replaced) this.#viewers.failAll(offline("the host agent reconnected; open the stream again"));
  }

  /** Events the agent reports on its own: its engine's state, and container lifecycle from Docker. */
  async #hostEvent(attachment: SocketAttachment, topic: string, data: unknown): Promise<void> {
    if (topic === DOCKER_STATE_TOPIC) {
      const docker = dockerState.safeParse(data);
      if (docker.success) await recordDockerState(database(this.env.DB), attachment.hostId, docker.data);
    } else if (topic === CONTAINER_EVENT_TOPIC) {
      const event = containerEvent.safeParse(data);
      if (!event.success) return;
      const killedRecently = this.#kills.note(event.data);
      const payload = { hostId: attachment.hostId, hostName: attachment.hostName, ...event.data };
      for (const type of webhookEventsFor(event.data, killedRecently)) {
        this.#webhooks.emit(attachment.userId, type, payload);
      }
    }
  }

  /** A viewer hung up: the agent stops the stream at once. */
  #viewerLeft(socket: WebSocket): void {
    const viewer = readViewer(socket);
    closeQuietly(socket, 1000, "bye");
    const agent = this.#liveSocket();
    if (viewer && agent) sendToAgent(agent, { type: "cancel", id: viewer.requestId });
  }

  async #dropped(socket: WebSocket, reason: string): Promise<void> {
    this.#pending.failSocket(socket, offline(reason));
    if (!this.#liveSocket(socket)) this.#viewers.failAll(offline(reason));
    const attachment = this.#attachments.get(socket);
    closeQuietly(socket, 1000, "closing");
    // A replaced socket closing must not mark the host offline while its successor is live.
    if (attachment?.hello && !this.#liveSocket(socket)) {
      await markHostOffline(database(this.env.DB), attachment.hostId);
      const { hostId, hostName, userId } = attachment;
      this.#webhooks.emit(userId, "host.offline", { hostId, hostName, reason });
    }
  }

  #refuse(socket: WebSocket, code: number, reason: string): void {
    this.#pending.failSocket(socket, offline(reason));
    closeQuietly(socket, code, reason);
  }

  /** The newest socket that completed its hello, ignoring `except`. */
  #liveSocket(except?: WebSocket): WebSocket | undefined {
    return this.ctx
      .getWebSockets(AGENT_TAG)
      .filter(
        (socket) => socket !== except && socket.readyState === WebSocket.OPEN && this.#attachments.get(socket)?.hello,
      )
      .sort((a, b) => (this.#attachments.get(b)?.connectedAt ?? 0) - (this.#attachments.get(a)?.connectedAt ?? 0))[0];
  }

  /** This object's host, for log lines about a socket whose attachment says nothing (a viewer's). */
  #name(): string {
    return this.ctx.id.name ?? this.ctx.id.toString();
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
