import { messageOf, type WireError } from "../../shared/errors";
import { CLOSE_CODES, type HelloFrame, MIN_PROTOCOL_VERSION, PROTOCOL_VERSION } from "../../shared/protocol";
import { database } from "../db/client";
import type { Bindings } from "../env";
import { releaseConnectTurn, renewConnectTurn } from "../hosts/connect-pacer";
import { markHostOffline, markHostOnline } from "../hosts/presence";
import { wakeBy } from "./alarm";
import { AGENT_TAG, type AgentAttachment, AttachmentCache, readAgent } from "./attachment";
import type { PendingRequests } from "./pending";
import { closeQuietly, sendToAgent } from "./to-agent";
import type { Viewers } from "./viewers";
import type { WebhookQueue } from "./webhook-queue";
import { whileSlow } from "./while-slow";

/**
 * An agent socket that has not said hello this long after its upgrade is closed. kai-agent
 * says it as soon as the socket opens; a dial that never does must not linger.
 */
export const HELLO_TIMEOUT_MS = 10_000;

/**
 * A hello whose D1 write has taken this long renews its connect turn (`renewConnectTurn`), so
 * the turn lasts while the write is under way: one arriving near its deadline would otherwise
 * see its lease (CONNECT_LEASE_MS from its start, edge/routes/agent-connect.ts) run out mid-write and let one more
 * connect in than the burst. A write is normally done well before, so a connect costs the
 * pacer no extra call; and this is early enough that even a hello at the deadline renews
 * with seconds of its lease to spare.
 */
const SLOW_HELLO_WRITE_MS = 1_000;

/**
 * The close reason for an agent whose protocol this edge no longer speaks: what it spoke, what
 * the edge speaks, and the fix. kai-agent logs it as is, so it names the command to run; at most
 * 123 bytes (a WebSocket close reason's limit). Only protocols below MIN_PROTOCOL_VERSION are
 * refused: a newer agent is not, because the welcome carries this edge's PROTOCOL_VERSION and an
 * agent speaks no more than that (as protocol 2's `chunks` frames show).
 */
export const unsupportedProtocol = (spoken: number): string =>
  `protocol ${spoken} unsupported (edge speaks ${MIN_PROTOCOL_VERSION}-${PROTOCOL_VERSION}): run kai-agent upgrade`;

export const offline = (message: string): WireError => ({ code: "AGENT_OFFLINE", message });

/** What a connection's end must fail: the requests in flight on it and the streams viewers watch. */
interface InFlight {
  pending: PendingRequests;
  viewers: Viewers;
}

/** Told when the host comes online (a connection was welcomed) and when it goes offline. */
export interface PresenceListener {
  welcomed(agent: AgentAttachment): void;
  offline(agent: AgentAttachment): void;
}

/**
 * The host's agent connections, from upgrade to close: the hello deadline, the hello itself
 * (recorded in D1 before the connection is relayed to), replacing an older connection, and
 * the host going offline. The live connection is the newest welcomed socket; requests go
 * only there.
 */
export class AgentConnections {
  /** Agent socket state, read once per socket while awake instead of on every frame. */
  readonly #attachments = new AttachmentCache<AgentAttachment>(readAgent);
  /** Sockets whose hello is being recorded right now (memory only: the object cannot hibernate mid-await). */
  readonly #greeting = new WeakSet<WebSocket>();

  constructor(
    private readonly ctx: DurableObjectState,
    private readonly env: Bindings,
    private readonly inFlight: InFlight,
    private readonly webhooks: WebhookQueue,
    private readonly listener: PresenceListener,
  ) {}

  attachment(socket: WebSocket): AgentAttachment | undefined {
    return this.#attachments.get(socket);
  }

  /** Takes a new agent socket; it has HELLO_TIMEOUT_MS to say hello (checked by `closeSilent`). */
  async accept(
    server: WebSocket,
    who: Pick<AgentAttachment, "hostId" | "hostName" | "userId" | "lease">,
  ): Promise<void> {
    this.ctx.acceptWebSocket(server, [AGENT_TAG]);
    try {
      const connectedAt = Date.now();
      this.#attachments.set(server, { ...who, connectedAt, hello: null });
      await wakeBy(this.ctx.storage, connectedAt + HELLO_TIMEOUT_MS);
    } catch (error) {
      closeQuietly(server, 1011, "internal error");
      throw error;
    }
  }

  /** The newest socket that completed its hello, ignoring `except`. */
  live(except?: WebSocket): WebSocket | undefined {
    return this.ctx
      .getWebSockets(AGENT_TAG)
      .filter(
        (socket) => socket !== except && socket.readyState === WebSocket.OPEN && this.#attachments.get(socket)?.hello,
      )
      .sort((a, b) => (this.#attachments.get(b)?.connectedAt ?? 0) - (this.#attachments.get(a)?.connectedAt ?? 0))[0];
  }

  /** Closes agent sockets past their hello deadline, and sets the alarm for the next one due. */
  async closeSilent(): Promise<void> {
    let next = Number.POSITIVE_INFINITY;
    for (const socket of this.#awaitingHello()) {
      const due = this.#helloDue(socket);
      if (due <= Date.now()) {
        this.refuse(socket, CLOSE_CODES.HELLO_REQUIRED, `no hello within ${HELLO_TIMEOUT_MS / 1000} s`);
      } else next = Math.min(next, due);
    }
    if (Number.isFinite(next)) await wakeBy(this.ctx.storage, next);
  }

  /** When the earliest open socket still owing its hello is due to have said it; undefined when none owes one. */
  nextHelloDue(): number | undefined {
    const due = this.#awaitingHello()
      .filter((socket) => socket.readyState === WebSocket.OPEN)
      .map((socket) => this.#helloDue(socket));
    return due.length > 0 ? Math.min(...due) : undefined;
  }

  /** Agent sockets that have not said hello and are not being greeted right now. */
  #awaitingHello(): WebSocket[] {
    return this.ctx
      .getWebSockets(AGENT_TAG)
      .filter((socket) => !this.#attachments.get(socket)?.hello && !this.#greeting.has(socket));
  }

  #helloDue(socket: WebSocket): number {
    return (this.#attachments.get(socket)?.connectedAt ?? 0) + HELLO_TIMEOUT_MS;
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
  async hello(socket: WebSocket, attachment: AgentAttachment, hello: HelloFrame): Promise<void> {
    try {
      await this.#hello(socket, attachment, hello);
    } finally {
      // Recorded or refused, this connect is done with its turn in the pace: the next may go.
      this.freeTurn(socket);
    }
  }

  async #hello(socket: WebSocket, attachment: AgentAttachment, hello: HelloFrame): Promise<void> {
    if (attachment.hello || this.#greeting.has(socket)) {
      return this.refuse(socket, CLOSE_CODES.PROTOCOL_ERROR, "hello was already sent on this connection");
    }
    if (hello.protocolVersion < MIN_PROTOCOL_VERSION) {
      return this.refuse(socket, CLOSE_CODES.VERSION_UNSUPPORTED, unsupportedProtocol(hello.protocolVersion));
    }
    if (hello.hostId !== attachment.hostId) {
      return this.refuse(socket, CLOSE_CODES.PROTOCOL_ERROR, "hello names another host than the token");
    }
    this.#greeting.add(socket);
    const { lease } = attachment;
    let recorded: boolean;
    try {
      recorded = await whileSlow(
        markHostOnline(database(this.env.DB), attachment.hostId, hello),
        SLOW_HELLO_WRITE_MS,
        () => {
          if (lease) void renewConnectTurn(this.env, lease);
        },
      );
    } catch (error) {
      console.error(`host ${attachment.hostId}: recording the agent's hello failed (${messageOf(error)})`);
      // 1011 (internal error) is not a final close for kai-agent: it dials again with backoff.
      return this.refuse(socket, 1011, "the edge could not record this connection; reconnect in a moment");
    } finally {
      this.#greeting.delete(socket);
    }
    if (!recorded) {
      // Its token was read before the host was deleted (a dial waits up to 10 s for its turn):
      // the token is revoked, as a connection open at the deletion is told.
      return this.refuse(socket, CLOSE_CODES.TOKEN_REVOKED, "this host was deleted and its token revoked");
    }
    if (socket.readyState !== WebSocket.OPEN) {
      // It left (or was closed) while the row was written, before any welcome or host.online:
      // the row goes back to offline, unannounced, unless another connection is live.
      if (!this.live()) await markHostOffline(database(this.env.DB), attachment.hostId);
      return;
    }
    // The lease stays until `hello`'s finally frees it, right after this (no await in between).
    this.#attachments.set(socket, { ...attachment, hello });
    this.#replaceOthers(socket);
    const { hostId, hostName, userId } = attachment;
    sendToAgent(socket, { type: "welcome", protocolVersion: PROTOCOL_VERSION, hostId, hostName });
    this.webhooks.emit(userId, "host.online", { hostId, hostName, agentVersion: hello.agentVersion });
    this.listener.welcomed({ ...attachment, hello });
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
      this.inFlight.pending.failSocket(previous, offline("the host agent reconnected; retry the request"));
      closeQuietly(previous, CLOSE_CODES.REPLACED, "replaced by a newer connection of this host");
    }
    if (replaced) this.inFlight.viewers.failAll(offline("the host agent reconnected; open the stream again"));
  }

  /** The socket closed or failed: what ran on it fails, and the host goes offline unless a successor is live. */
  async dropped(socket: WebSocket, reason: string): Promise<void> {
    this.inFlight.pending.failSocket(socket, offline(reason));
    const successor = this.live(socket);
    if (!successor) this.inFlight.viewers.failAll(offline(reason));
    const attachment = this.#attachments.get(socket);
    closeQuietly(socket, 1000, "closing");
    if (!attachment?.hello) this.freeTurn(socket);
    if (attachment?.hello && !successor) {
      await markHostOffline(database(this.env.DB), attachment.hostId);
      const { hostId, hostName, userId } = attachment;
      this.webhooks.emit(userId, "host.offline", { hostId, hostName, reason });
      this.listener.offline(attachment);
    }
  }

  /** Closes every agent socket at once, failing what ran on them (the host was deleted, say). */
  closeAll(code: number, reason: string): void {
    this.inFlight.viewers.failAll(offline(reason));
    for (const socket of this.ctx.getWebSockets(AGENT_TAG)) this.refuse(socket, code, reason);
  }

  /**
   * Lets the next connect in the pace go, once per socket: the lease is dropped from the
   * socket's attachment as it is freed, so a refused hello followed by the close (or the
   * hello deadline, or closeAll) does not release it again. A closed socket's turn must be
   * freed by whoever closed it: the runtime need not call webSocketClose for the edge's own close.
   */
  freeTurn(socket: WebSocket): void {
    const attachment = this.#attachments.get(socket);
    if (!attachment?.lease) return;
    this.#attachments.set(socket, { ...attachment, lease: undefined });
    // Not awaited: a Durable Object stays active while outbound I/O is pending, so the release
    // arrives after the hook returns (and releaseConnectTurn logs rather than throws).
    void releaseConnectTurn(this.env, attachment.lease);
  }

  /** Closes an agent socket, failing what ran on it; a connect refused before its hello frees its turn. */
  refuse(socket: WebSocket, code: number, reason: string): void {
    this.inFlight.pending.failSocket(socket, offline(reason));
    closeQuietly(socket, code, reason);
    this.freeTurn(socket);
  }
}
