import { COMMANDS, type StreamOp, isStreamOp } from "../../shared/commands";
import type { WireError } from "../../shared/errors";
import { CLOSE_CODES } from "../../shared/protocol";
import { AttachmentCache, VIEWER_TAG, readViewer, type ViewerAttachment } from "./attachment";
import type { Outcome } from "./pending";

/**
 * Clients that watch a streamed command over a WebSocket of their own. Unlike a response
 * body, a viewer's socket tells this object when the client leaves (webSocketClose), so
 * the agent is told to stop at once. State lives in socket tags and attachments, so a
 * viewer survives the object hibernating between two chunks.
 */
export class Viewers {
  /**
   * `nextSeq` advances in the cached copy only: writing the attachment on every chunk cost
   * more than the rest of the forward, and after a hibernation the guard restarts from the
   * stored value, which can only let a duplicate through, never drop a chunk (agents do
   * not resend).
   */
  readonly #known = new AttachmentCache<ViewerAttachment>(readViewer);

  constructor(private readonly ctx: DurableObjectState) {}

  /** `credential` (`pat:<id>` or `session:<id>`) tags the socket, so revoking it finds the viewers it opened. */
  accept(requestId: string, op: StreamOp, credential: string | null): WebSocket {
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server, credential ? [VIEWER_TAG, requestId, credential] : [VIEWER_TAG, requestId]);
    this.#known.set(server, { kind: "viewer", requestId, op, nextSeq: 0 });
    return client;
  }

  isViewer(socket: WebSocket): boolean {
    return this.ctx.getTags(socket).includes(VIEWER_TAG);
  }

  /**
   * Forwards consecutive chunks (the first numbered `seq`) to the request's viewers, one
   * frame per chunk, each checked against the command's chunk schema; false when nobody
   * watches the request any more.
   */
  chunks(requestId: string, seq: number, items: readonly unknown[]): boolean {
    const sockets = this.ctx.getWebSockets(requestId).filter((socket) => this.isViewer(socket));
    for (const socket of sockets) {
      const viewer = this.#known.get(socket);
      if (!viewer || !isStreamOp(viewer.op)) continue;
      const command = COMMANDS[viewer.op];
      const raw = "viewer" in command && command.viewer === "raw";
      items.forEach((data, index) => {
        const at = seq + index;
        if (at < viewer.nextSeq) return;
        const parsed = command.chunk.safeParse(data);
        if (!parsed.success) return;
        viewer.nextSeq = at + 1;
        socket.send(JSON.stringify(raw ? parsed.data : { type: "chunk", seq: at, data: parsed.data }));
      });
    }
    return sockets.length > 0;
  }


  /** Sends the final answer and closes; false when the request had no viewer. */
  end(requestId: string, outcome: Outcome): boolean {
    const sockets = this.ctx.getWebSockets(requestId).filter((socket) => this.isViewer(socket));
    for (const socket of sockets) {
      socket.send(JSON.stringify(outcome.ok ? { type: "end", result: outcome.result } : { type: "error", error: outcome.error }));
      socket.close(1000, outcome.ok ? "done" : outcome.error.code);
    }
    return sockets.length > 0;
  }

  /**
   * The viewers `credential` opened get `error` and are closed with CREDENTIAL_REVOKED;
   * returns their request ids, whose streams the agent is to stop.
   */
  closeOpenedWith(credential: string, error: WireError): string[] {
    const requestIds: string[] = [];
    for (const socket of this.ctx.getWebSockets(credential)) {
      if (!this.isViewer(socket)) continue;
      const viewer = this.#known.get(socket);
      if (viewer) requestIds.push(viewer.requestId);
      try {
        socket.send(JSON.stringify({ type: "error", error }));
        socket.close(CLOSE_CODES.CREDENTIAL_REVOKED, "the credential was revoked");
      } catch {
        // the viewer is already gone
      }
    }
    return requestIds;
  }

  /** The agent is gone: every viewer gets the error and is closed. */
  failAll(error: WireError): void {
    for (const socket of this.ctx.getWebSockets(VIEWER_TAG)) {
      socket.send(JSON.stringify({ type: "error", error }));
      socket.close(1011, error.code);
    }
  }
}
