import type { WireError } from "../../shared/errors";

/** How a relayed request ended, as the Durable Object hands it back over RPC. */
export type Outcome = { ok: true; result: unknown } | { ok: false; error: WireError };

interface Entry {
  socket: WebSocket;
  settle: (outcome: Outcome) => void;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * Requests sent to an agent and not yet answered. Kept in memory only: the runtime does
 * not evict a Durable Object while one of its RPC calls is still awaiting, and a socket
 * that drops fails its entries at once instead of letting them run into the timeout.
 */
export class PendingRequests {
  readonly #entries = new Map<string, Entry>();

  wait(id: string, socket: WebSocket, timeoutMs: number, onTimeout: () => WireError): Promise<Outcome> {
    return new Promise<Outcome>((resolve) => {
      const timer = setTimeout(() => this.settle(id, { ok: false, error: onTimeout() }), timeoutMs);
      this.#entries.set(id, { socket, settle: resolve, timer });
    });
  }

  /** Resolves one request; answers for unknown ids (late, after a timeout) are dropped. */
  settle(id: string, outcome: Outcome): boolean {
    const entry = this.#entries.get(id);
    if (!entry) return false;
    clearTimeout(entry.timer);
    this.#entries.delete(id);
    entry.settle(outcome);
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
