/**
 * Debounces file changes per path and folds a burst into the one change it amounts to.
 * What matters is whether the path existed before the burst and whether it exists after:
 * created+modified → created; created+deleted → nothing; deleted+created (an editor's
 * atomic save) → modified. A path is flushed `delayMs` after its last event, or `maxWaitMs`
 * after its first, so a file written continuously (a log) still reports now and then.
 */
export type ChangeType = "created" | "modified" | "deleted";

export interface PendingChange {
  existedBefore: boolean;
  existsNow: boolean;
}

/** The state after `event`, starting a burst when `pending` is undefined. */
export function mergeChange(pending: PendingChange | undefined, event: ChangeType): PendingChange {
  const existedBefore = pending ? pending.existedBefore : event !== "created";
  return { existedBefore, existsNow: event !== "deleted" };
}

/** The one change a burst amounts to, or null when it cancels out. */
export function settleChange(pending: PendingChange): ChangeType | null {
  if (pending.existedBefore) return pending.existsNow ? "modified" : "deleted";
  return pending.existsNow ? "created" : null;
}

export interface CoalescerOptions {
  delayMs: number;
  maxWaitMs: number;
  flush: (path: string, type: ChangeType) => void;
}

interface Entry {
  pending: PendingChange;
  first: number;
  timer: NodeJS.Timeout;
}

export class ChangeCoalescer {
  readonly #options: CoalescerOptions;
  readonly #entries = new Map<string, Entry>();

  constructor(options: CoalescerOptions) {
    this.#options = options;
  }

  push(path: string, event: ChangeType): void {
    const entry = this.#entries.get(path);
    if (entry) clearTimeout(entry.timer);
    const now = Date.now();
    const first = entry?.first ?? now;
    const wait = Math.max(0, Math.min(this.#options.delayMs, first + this.#options.maxWaitMs - now));
    this.#entries.set(path, {
      pending: mergeChange(entry?.pending, event),
      first,
      timer: setTimeout(() => this.#flush(path), wait),
    });
  }

  /** Drops whatever is pending; nothing is flushed after this. */
  close(): void {
    for (const entry of this.#entries.values()) clearTimeout(entry.timer);
    this.#entries.clear();
  }

  #flush(path: string): void {
    const entry = this.#entries.get(path);
    if (!entry) return;
    this.#entries.delete(path);
    const type = settleChange(entry.pending);
    if (type) this.#options.flush(path, type);
  }
}
