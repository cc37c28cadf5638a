import { type ChunkFrame, type ChunksFrame, MAX_FRAME_BYTES } from "../shared/protocol";

/** A batch is sent before it would pass this size, leaving room for the frame's own fields. */
const MAX_BATCH_CHARS = MAX_FRAME_BYTES - 4 * 1024;
/** And before it holds this many chunks, so the edge's fan-out of one frame stays short. */
const MAX_BATCH_ITEMS = 512;

/**
 * Gathers the chunks one stream emits within one turn of the event loop into a single
 * `chunks` frame. A log follow hands over hundreds of lines per read of Docker's stream;
 * one frame per line spent most of the relay's CPU on per-frame overhead in the agent, the
 * socket and the Durable Object. Nothing waits for a timer: the batch goes out as soon as
 * the current turn ends, so a quiet stream's single line is not delayed.
 */
export class ChunkBatcher {
  #items: unknown[] = [];
  #firstSeq = 0;
  #nextSeq = 0;
  #chars = 0;
  #scheduled: ReturnType<typeof setImmediate> | undefined;

  constructor(
    private readonly id: string,
    private readonly send: (frame: ChunkFrame | ChunksFrame) => void,
    /** False while the edge is older than `chunks` frames: every chunk then goes alone. */
    private readonly batching: boolean,
  ) {}

  push(data: unknown): void {
    const seq = this.#nextSeq++;
    if (!this.batching) {
      this.send({ type: "chunk", id: this.id, seq, data });
      return;
    }
    // Serialized to be measured (escapes included), as the frame limit counts characters.
    const chars = JSON.stringify(data)?.length ?? 4;
    if (this.#items.length && (this.#chars + chars > MAX_BATCH_CHARS || this.#items.length >= MAX_BATCH_ITEMS))
      this.flush();
    if (!this.#items.length) this.#firstSeq = seq;
    this.#items.push(data);
    this.#chars += chars + 1;
    this.#scheduled ??= setImmediate(() => this.flush());
  }

  /** Sends what is gathered; called before the stream's final answer so chunks come first. */
  flush(): void {
    clearImmediate(this.#scheduled);
    this.#scheduled = undefined;
    const items = this.#items;
    if (!items.length) return;
    this.#items = [];
    this.#chars = 0;
    this.send(
      items.length === 1
        ? { type: "chunk", id: this.id, seq: this.#firstSeq, data: items[0] }
        : { type: "chunks", id: this.id, seq: this.#firstSeq, data: items },
    );
  }

  /** Drops what is gathered (the request was cancelled). */
  discard(): void {
    clearImmediate(this.#scheduled);
    this.#scheduled = undefined;
    this.#items = [];
    this.#chars = 0;
  }
}
