import { COMMANDS, type StreamOp } from "../../shared/commands";
import type { WireError } from "../../shared/errors";

const encoder = new TextEncoder();

/** One server-sent event. */
function sse(event: string, data: unknown): Uint8Array {
  return encoder.encode(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

interface OpenStream {
  op: StreamOp;
  socket: WebSocket;
  writer: WritableStreamDefaultWriter<Uint8Array>;
  nextSeq: number;
  /** Tells the agent to stop when the client goes away. */
  cancel: () => void;
}

/**
 * Streamed requests (a log follow) in flight: chunk frames from the agent become
 * server-sent events on a stream the Worker hands to the client. Chunks are checked
 * against the command's chunk schema and kept in order by `seq`; the end, the agent's
 * error or a dropped socket closes the stream with a final event.
 */
export class StreamRegistry {
  readonly #streams = new Map<string, OpenStream>();

  open(id: string, op: StreamOp, socket: WebSocket, cancel: () => void): ReadableStream<Uint8Array> {
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
    const writer = writable.getWriter();
    this.#streams.set(id, { op, socket, writer, nextSeq: 0, cancel });
    // The client hanging up shows as a failed write; then the agent is told to stop.
    writer.closed.catch(() => this.#abandon(id));
    return readable;
  }

  has(id: string): boolean {
    return this.#streams.has(id);
  }

  chunk(id: string, seq: number, data: unknown): void {
    const stream = this.#streams.get(id);
    if (!stream || seq < stream.nextSeq) return; // unknown, or a duplicate
    const parsed = COMMANDS[stream.op].chunk.safeParse(data);
    if (!parsed.success) return;
    stream.nextSeq = seq + 1;
    stream.writer.write(sse("log", parsed.data)).catch(() => this.#abandon(id));
  }

  end(id: string, outcome: { ok: true; result: unknown } | { ok: false; error: WireError }): void {
    const stream = this.#streams.get(id);
    if (!stream) return;
    this.#streams.delete(id);
    const last = outcome.ok ? sse("end", outcome.result) : sse("error", outcome.error);
    stream.writer.write(last).then(
      () => stream.writer.close(),
      () => undefined,
    );
  }

  failSocket(socket: WebSocket, error: WireError): void {
    for (const [id, stream] of this.#streams) if (stream.socket === socket) this.end(id, { ok: false, error });
  }

  #abandon(id: string): void {
    const stream = this.#streams.get(id);
    if (!stream) return;
    this.#streams.delete(id);
    stream.cancel();
  }
}
