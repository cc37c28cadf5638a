import type { WireError } from "../../shared/errors";
import { checkChunks } from "./chunks";

/** How a relayed request ended, as the Durable Object hands it back over RPC. */
export type Outcome =
  | { ok: true; result: unknown; chunks?: unknown[]; chunksTruncated?: boolean }
  | { ok: false; error: WireError };

/** A streamed command run without a viewer keeps at most this much of its chunks for the answer. */
const MAX_COLLECTED_CHARS = 1024 * 1024;

interface Entry {
  op: string;
  socket: WebSocket;
  settle: (outcome: Outcome) => void;
  timer: ReturnType<typeof setTimeout>;
  chunks: unknown[];
  collectedChars: number;
  truncated: boolean;
}

/**
 * Requests sent to an agent and not yet answered. Kept in memory only: the runtime does
 * not evict a Durable Object while one of its RPC calls is still awaiting, and a socket
 * that drops fails its entries at once instead of letting them run into the timeout.
 */
export class PendingRequests {
  readonly #entries = new Map<string, Entry>();

  wait(id: string, op: string, socket: WebSocket, timeoutMs: number, onTimeout: () => WireError): Promise<Outcome> {
    return new Promise<Outcome>((resolve) => {
      const timer = setTimeout(() => this.settle(id, { ok: false, error: onTimeout() }), timeoutMs);
      this.#entries.set(id, { op, socket, settle: resolve, timer, chunks: [], collectedChars: 0, truncated: false });
    });
  }

  /**
   * Keeps the chunks of a streamed command nobody watches live, to hand back with its
   * result: checked against its chunk schema as a viewer's are (checkChunks).
   */
  collect(id: string, seq: number, values: readonly unknown[]): boolean {
    const entry = this.#entries.get(id);
    if (!entry) return false;
    for (const { data } of checkChunks(entry.op, id, seq, values)) {
      const size = JSON.stringify(data).length;
      if (entry.collectedChars + size > MAX_COLLECTED_CHARS) entry.truncated = true;
      else {
        entry.chunks.push(data);
        entry.collectedChars += size;
      }
    }
    return true;
  }

  /** Resolves one request; answers for unknown ids (late, after a timeout) are dropped. */
  settle(id: string, outcome: Outcome): boolean {
    const entry = this.#entries.get(id);
    if (!entry) return false;
    clearTimeout(entry.timer);
    this.#entries.delete(id);
    entry.settle(
      outcome.ok && entry.chunks.length
        ? { ...outcome, chunks: entry.chunks, chunksTruncated: entry.truncated }
        : outcome,
    );
    return true;
  }

  /** Fails every request that was sent on `socket`. */
  failSocket(socket: WebSocket, error: WireError): number {
    let failed = 0;
    for (const [id, entry] of this.#entries) {
      if (entry.socket === socket && this.settle(id, { ok: false, error })) failed += 1;
    }
    return failed;
  }

  get size(): number {
    return this.#entries.size;
  }
}
