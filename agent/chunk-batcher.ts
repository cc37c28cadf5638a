import { encodeAgentFrame, MAX_FRAME_BYTES } from "../shared/protocol";
import { TurnBatcher } from "./turn-batcher";

/** A batch is sent before it would pass this size, leaving room for the frame's own fields. */
const MAX_BATCH_CHARS = MAX_FRAME_BYTES - 4 * 1024;
/**
 * And before it holds this many chunks, so the edge's fan-out of one frame stays short: a
 * viewer that takes a frame per line is sent this many in one turn of the host's object.
 */
export const MAX_BATCH_ITEMS = 1024;
/**
 * After any frame, a stream's next frame gathers until HOLD_MS after it (or until full): a
 * busy stream travels in frames of a few hundred lines, at most 1000 / HOLD_MS frames a
 * second, while a chunk after a quiet spell still goes at the end of its turn. Holding only
 * after a batch of 32 or more let a follow the agent kept up with (reads of a few lines each)
 * stay in frames of a few dozen lines, paying the agent's, workerd's and the client's
 * per-frame costs on each: two streams bench runs of the same code took 76 and 417 frames for
 * the same 20,000 lines, at 0.83× and 0.51× Docker's own follow. Those costs are still about a
 * third of a millisecond of workerd's CPU per frame: holding 10 ms (and up to 1,024 lines)
 * instead of 5 (and 512) halved a busy follow's frames (~560 → ~260 for 200,000 lines),
 * workerd's CPU per line (1.9 → 1.4 µs) and the client's by a seventh, in four paired runs,
 * for at most 5 ms more before a busy stream's line shows.
 */
export const HOLD_MS = 10;

/**
 * One stream's chunks, numbered, and sent as one `chunks` frame per turn of the event loop
 * (see TurnBatcher): a log follow hands over hundreds of lines per read of Docker's stream.
 * Every stream (logs, scripts' output, workspace watches) sends at most one frame per HOLD_MS;
 * its last chunks are never held past its answer (`flush`).
 */
export class ChunkBatcher {
  #nextSeq = 0;
  readonly #batch: TurnBatcher<{ seq: number; data: unknown; json: string }>;

  constructor(
    private readonly id: string,
    /** Takes the text of one `chunk` or `chunks` frame. */
    private readonly send: (text: string) => void,
    /** False while the edge is older than `chunks` frames: every chunk then goes alone. */
    private readonly batching: boolean,
    /** Writes one chunk's JSON, as JSON.stringify would (chunk-json.ts has the busy streams' own). */
    private readonly toJson: (data: unknown) => string = (data) => JSON.stringify(data) ?? "null",
  ) {
    this.#batch = new TurnBatcher((items) => this.#sendBatch(items), {
      maxItems: MAX_BATCH_ITEMS,
      maxChars: MAX_BATCH_CHARS,
      holdMs: HOLD_MS,
    });
  }

  push(data: unknown): void {
    const seq = this.#nextSeq++;
    if (!this.batching) {
      this.send(encodeAgentFrame({ type: "chunk", id: this.id, seq, data }));
      return;
    }
    // Serialized once: measured (escapes included, as the frame limit counts characters; +1 for
    // the comma), and that text goes into the frame as it is, so a line is never serialized twice.
    const json = this.toJson(data);
    this.#batch.push({ seq, data, json }, json.length + 1);
  }

  /** Sends what is gathered; called before the stream's final answer so chunks come first. */
  flush(): void {
    this.#batch.flush();
  }

  /** Drops what is gathered (the request was cancelled). */
  discard(): void {
    this.#batch.discard();
  }

  #sendBatch(items: { seq: number; data: unknown; json: string }[]): void {
    const [first] = items;
    if (!first) return;
    if (items.length === 1) {
      this.send(encodeAgentFrame({ type: "chunk", id: this.id, seq: first.seq, data: first.data }));
      return;
    }
    // What encodeAgentFrame would write for this `chunks` frame, from the texts already made.
    const data = items.map((item) => item.json).join(",");
    this.send(`{"type":"chunks","id":${JSON.stringify(this.id)},"seq":${first.seq},"data":[${data}]}`);
  }
}
