import { z } from "zod";
import { CLOSE_CODES } from "../../shared/protocol";
import type { AgentMessage, AgentSessionNotice } from "../../shared/schemas/agent-sessions";
import { AttachmentCache } from "./attachment";
import { FrameBudget, VIEWER_FRAME_RATE } from "./frame-budget";
import type { SessionLog } from "./session-log";
import { closeQuietly } from "./to-agent";

/**
 * Tags of an agent session's viewer sockets. Not `session:<id>`: that tag is a login session's
 * credential (viewers.ts), which these sockets carry too, so revoking it finds them.
 */
const SESSION_VIEWER_TAG = "agent-session";
const sessionTag = (sessionId: string) => `agent-session:${sessionId}`;

/** A session viewer's state, kept with the socket so it survives hibernation. */
const sessionViewerAttachment = z.object({ kind: z.literal("agent-session"), sessionId: z.string() });
type SessionViewerAttachment = z.infer<typeof sessionViewerAttachment>;

function readSessionViewer(socket: WebSocket): SessionViewerAttachment | undefined {
  const parsed = sessionViewerAttachment.safeParse(socket.deserializeAttachment());
  return parsed.success ? parsed.data : undefined;
}

/**
 * Clients watching one agent session over their own WebSocket (Hibernation API: tags and an
 * attachment, no memory of its own, so a viewer survives the object sleeping). Every frame a
 * viewer gets is one JSON AgentMessage, numbered by `seq`, or an unnumbered notice
 * (`AgentSessionNotice`: a withdrawn approval, a reply to the viewer's own frame).
 *
 * Replay-then-live has no gap: `accept` registers the socket and sends the replay in one
 * synchronous stretch, and `broadcast` runs in the same single-threaded object right after
 * the log stores a message, so a message is either in the replay or broadcast to the new
 * viewer, never both and never neither.
 */
export class SessionViewers {
  readonly #known = new AttachmentCache<SessionViewerAttachment>(readSessionViewer);
  readonly #budget = new FrameBudget(VIEWER_FRAME_RATE);

  constructor(private readonly ctx: DurableObjectState) {}

  /**
   * Opens a viewer of `sessionId` that has seen everything up to `since`, and sends it what
   * the log holds after that. When messages it has not seen are gone, the first frame is an
   * `error` numbered `oldest - 1`: it stands for the messages lost, so a client that resumes
   * from the last seq it got asks for exactly what is kept; when they were all pruned (the
   * session ended long ago) it is numbered as the last one and says so. After the replay come the
   * `notices` (the withdrawn approvals, which the log does not hold). `credential` (`pat:<id>` or
   * `session:<id>`) tags the socket as viewers.ts does. A `since` that is not a whole number
   * of at least 0 (a query parameter that did not parse) counts as 0: everything kept.
   */
  accept(
    sessionId: string,
    since: number,
    credential: string | null,
    log: SessionLog,
    notices: () => AgentSessionNotice[] = () => [],
  ): WebSocket {
    const after = Number.isSafeInteger(since) && since > 0 ? since : 0;
    const { 0: client, 1: server } = new WebSocketPair();
    const tags = [SESSION_VIEWER_TAG, sessionTag(sessionId)];
    this.ctx.acceptWebSocket(server, credential ? [...tags, credential] : tags);
    this.#known.set(server, { kind: "agent-session", sessionId });
    const { messages, expired } = log.replay(sessionId, after);
    if (expired) {
      const lost = expired.oldest - 1;
      const error = `messages ${after + 1} to ${lost} of this session are no longer kept`;
      const why = expired.pruned
        ? "; the session ended longer ago than its messages are kept (AGENT_SESSION_RETENTION_DAYS)"
        : `; the replay starts at ${expired.oldest}`;
      this.#send(server, { type: "error", seq: lost, error: `${error}${why}` });
    }
    for (const message of messages) this.#send(server, message);
    for (const notice of notices()) this.#send(server, notice);
    return client;
  }

  /**
   * Sends `message` to every viewer of its session; a viewer whose socket fails is closed
   * and the others still get it. Returns how many viewers it reached.
   */
  broadcast(sessionId: string, message: AgentMessage): number {
    const text = JSON.stringify(message);
    let reached = 0;
    for (const socket of this.ctx.getWebSockets(sessionTag(sessionId))) {
      if (this.#send(socket, text)) reached += 1;
    }
    return reached;
  }

  /** Sends an unnumbered notice (not part of the log) to every viewer of the session. */
  notify(sessionId: string, notice: AgentSessionNotice): void {
    const text = JSON.stringify(notice);
    for (const socket of this.ctx.getWebSockets(sessionTag(sessionId))) this.#send(socket, text);
  }

  /**
   * Whether a frame the viewer sent may be handled: each socket has a budget (frame-budget.ts).
   * Over it, the frame is dropped and the viewer told RATE_LIMITED; a viewer that keeps
   * sending regardless is closed with 1008 (policy violation).
   */
  admit(socket: WebSocket): boolean {
    const verdict = this.#budget.spend(socket);
    if (verdict === "accepted") return true;
    const { burst, perSecond } = VIEWER_FRAME_RATE;
    const error = `too many frames: ${burst} at once, then ${perSecond} a second; this one was dropped`;
    this.#send(socket, { type: "error", error, code: "RATE_LIMITED" });
    if (verdict === "abusive") closeQuietly(socket, 1008, "too many frames");
    return false;
  }

  isSessionViewer(socket: WebSocket): boolean {
    return this.ctx.getTags(socket).includes(SESSION_VIEWER_TAG);
  }

  /** The agent session a viewer watches, or undefined for any other socket. */
  sessionOf(socket: WebSocket): string | undefined {
    return this.isSessionViewer(socket) ? this.#known.get(socket)?.sessionId : undefined;
  }

  /** Closes every viewer of the session (it was deleted, say). */
  closeSession(sessionId: string, code: number, reason: string): void {
    for (const socket of this.ctx.getWebSockets(sessionTag(sessionId))) closeQuietly(socket, code, reason);
  }

  /**
   * Closes the session viewers `credential` opened with CREDENTIAL_REVOKED. No `error` frame
   * comes first (unlike a stream viewer's): every frame here is a numbered AgentMessage, and
   * there is no number for this one. Returns how many were closed.
   */
  closeOpenedWith(credential: string): number {
    let closed = 0;
    for (const socket of this.ctx.getWebSockets(credential)) {
      if (!this.isSessionViewer(socket)) continue;
      closeQuietly(socket, CLOSE_CODES.CREDENTIAL_REVOKED, "the credential was revoked");
      closed += 1;
    }
    return closed;
  }

  /** A viewer that is gone must not stop the loop that sends to the others: it is closed instead. */
  #send(socket: WebSocket, message: AgentMessage | AgentSessionNotice | string): boolean {
    try {
      socket.send(typeof message === "string" ? message : JSON.stringify(message));
      return true;
    } catch {
      closeQuietly(socket, 1011, "this viewer could not be sent to");
      return false;
    }
  }
}
