import type { StreamOp } from "../../shared/commands";
import type { WireError } from "../../shared/errors";
import { CLOSE_CODES } from "../../shared/protocol";
import { encodeStreamFrame, type WireStreamFrame } from "../../shared/stream-frames";
import { AttachmentCache, readViewer, VIEWER_TAG, type ViewerAttachment } from "./attachment";
import { type CheckedChunk, checkChunks } from "./chunks";
import type { ExactLogFrame } from "./exact-log-frame";
import type { Outcome } from "./pending";
import { closeQuietly } from "./to-agent";

/** The stream whose frames kai-agent writes in the form exact-log-frame.ts reads. */
const EXACT_LOG_OP: StreamOp = "service.logs.follow";

/**
 * Clients that watch a streamed command over a WebSocket of their own. Unlike a response
 * body, a viewer's socket tells this object when the client leaves (webSocketClose), so
 * the agent is told to stop at once. State lives in socket tags and attachments, so a
 * viewer survives the object hibernating between two chunks. Frames to viewers are the
 * ones of shared/stream-frames.ts, and go out through `#send` only.
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

  /**
   * `credential` (`pat:<id>` or `session:<id>`) tags the socket, so revoking it finds the viewers it opened;
   * `batched`: the client takes `chunks` frames (shared/stream-frames.ts).
   */
  accept(requestId: string, op: StreamOp, credential: string | null, batched = false): WebSocket {
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server, credential ? [VIEWER_TAG, requestId, credential] : [VIEWER_TAG, requestId]);
    this.#known.set(server, { kind: "viewer", requestId, op, nextSeq: 0, ...(batched ? { batched } : {}) });
    return client;
  }

  isViewer(socket: WebSocket): boolean {
    return this.ctx.getTags(socket).includes(VIEWER_TAG);
  }

  /**
   * Forwards consecutive chunks (the first numbered `seq`) to the request's viewers, each
   * checked once against the command's chunk schema (checkChunks): one frame per chunk, or
   * for a batched viewer one `chunks` frame per run of consecutive numbers (the agent's frame,
   * split only where a chunk was dropped, so `seq` means the same in both). False when nobody
   * watches the request any more.
   */
  chunks(requestId: string, seq: number, values: readonly unknown[]): boolean {
    const sockets = this.#of(requestId);
    const first = sockets[0];
    if (!first) return false;
    const chunks = checkChunks(this.#known.get(first)?.op ?? "", requestId, seq, values);
    for (const socket of sockets) {
      const viewer = this.#known.get(socket);
      if (!viewer) continue;
      const fresh = chunks.filter((chunk) => chunk.seq >= viewer.nextSeq);
      const last = fresh.at(-1);
      if (!last) continue;
      viewer.nextSeq = last.seq + 1;
      if (viewer.batched) {
        for (const run of consecutiveRuns(fresh)) this.#send(socket, viewer.op, run);
      } else {
        for (const { seq, data } of fresh) this.#send(socket, viewer.op, { type: "chunk", seq, data });
      }
    }
    return true;
  }

  /**
   * Sends a log follow's frame that kai-agent wrote in its exact form (exact-log-frame.ts) to
   * the request's viewers as its text stands, without parsing a line: the bytes `chunks` would
   * send. Only when every viewer takes batched frames and has seen none of these lines; false
   * (nothing sent) otherwise, and the frame goes through `chunks` as any other.
   */
  exactLogChunks(frame: ExactLogFrame): boolean {
    if (!this.takesExactLog(frame.id, frame.seq)) return false;
    const sockets = this.#of(frame.id);
    const viewers = sockets.map((socket) => this.#known.get(socket));
    // What encodeStreamFrame writes for this run's `chunks` frame (JSON.stringify keeps key order).
    const text = `{"type":"chunks","seq":${frame.seq},"data":[${frame.entries}]}`;
    sockets.forEach((socket, index) => {
      const viewer = viewers[index];
      if (viewer) viewer.nextSeq = frame.seq + frame.count;
      this.#sendText(socket, text);
    });
    return true;
  }

  /**
   * Whether a log follow's exact frame for `requestId` from `seq` on may go to its viewers as
   * it stands: it has viewers, all of a log follow, all batched, none past `seq` already.
   */
  takesExactLog(requestId: string, seq: number): boolean {
    const viewers = this.#of(requestId).map((socket) => this.#known.get(socket));
    return (
      viewers.length > 0 &&
      viewers.every((viewer) => viewer?.op === EXACT_LOG_OP && viewer.batched && viewer.nextSeq <= seq)
    );
  }

  /** Sends the final answer and closes; false when the request had no viewer. */
  end(requestId: string, outcome: Outcome): boolean {
    const sockets = this.#of(requestId);
    for (const socket of sockets) {
      const op = this.#known.get(socket)?.op ?? "";
      const frame = outcome.ok
        ? { type: "end" as const, result: outcome.result }
        : { type: "error" as const, error: outcome.error };
      this.#send(socket, op, frame);
      closeQuietly(socket, 1000, outcome.ok ? "done" : outcome.error.code);
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
      this.#send(socket, viewer?.op ?? "", { type: "error", error });
      closeQuietly(socket, CLOSE_CODES.CREDENTIAL_REVOKED, "the credential was revoked");
    }
    return requestIds;
  }

  /** The agent is gone: every viewer gets the error and is closed. */
  failAll(error: WireError): void {
    for (const socket of this.ctx.getWebSockets(VIEWER_TAG)) {
      this.#send(socket, this.#known.get(socket)?.op ?? "", { type: "error", error });
      closeQuietly(socket, 1011, error.code);
    }
  }

  #of(requestId: string): WebSocket[] {
    return this.ctx.getWebSockets(requestId).filter((socket) => this.isViewer(socket));
  }

  /** A viewer that already left must not make the hook that sends to it throw. */
  #send(socket: WebSocket, op: string, frame: WireStreamFrame): void {
    this.#sendText(socket, encodeStreamFrame(op, frame));
  }

  #sendText(socket: WebSocket, text: string): void {
    try {
      socket.send(text);
    } catch {
      // the viewer is gone; its close hook cleans up
    }
  }
}

/** `chunks` frames of runs of consecutive numbers: a gap (a dropped chunk) starts a new frame. */
function consecutiveRuns(chunks: readonly CheckedChunk[]): WireStreamFrame[] {
  const runs: { type: "chunks"; seq: number; data: unknown[] }[] = [];
  let current: { type: "chunks"; seq: number; data: unknown[] } | undefined;
  for (const { seq, data } of chunks) {
    if (current && seq === current.seq + current.data.length) current.data.push(data);
    else runs.push((current = { type: "chunks", seq, data: [data] }));
  }
  return runs;
}
