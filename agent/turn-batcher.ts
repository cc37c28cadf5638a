/** How full a batch may get: it is handed over before the next item would pass either bound. */
export interface BatchLimits {
  maxItems: number;
  /** Measured by the caller (usually the item's JSON length, escapes included). */
  maxChars: number;
  /**
   * Opt-in, for a stream that can run hot (a log follow): after a batch, the next one waits
   * until `holdMs` after it went, unless it fills up first. A busy stream then sends fewer,
   * fuller frames, each costing the sockets and the edge once; an item after a quiet spell
   * still goes at the end of its turn.
   */
  holdMs?: number;
}

/**
 * Gathers the items pushed within one turn of the event loop and hands them over together,
 * sooner when the next item would pass the limits. Nothing waits for a timer: the batch goes
 * at the end of the current turn, so a lone item is not delayed, while a burst (hundreds of
 * log lines from one read of Docker's stream, an agent's tool output) becomes one frame
 * instead of one per item: per-frame costs in the agent, the socket and the edge's Durable
 * Object are what a burst spends its CPU on. Items keep their order across batches.
 */
export class TurnBatcher<T> {
  #items: T[] = [];
  #chars = 0;
  #scheduled: ReturnType<typeof setImmediate> | undefined;
  #held: ReturnType<typeof setTimeout> | undefined;
  /** When the last batch went, with `holdMs` set. */
  #busySince: number | undefined;
  readonly #deliver: (items: T[]) => void;
  readonly #limits: BatchLimits;

  constructor(deliver: (items: T[]) => void, limits: BatchLimits) {
    this.#deliver = deliver;
    this.#limits = limits;
  }

  /** Adds `item` (`chars` its measured size); the batch so far goes first when it would overflow. */
  push(item: T, chars: number): void {
    const { maxItems, maxChars } = this.#limits;
    if (this.#items.length > 0 && (this.#chars + chars > maxChars || this.#items.length >= maxItems)) this.flush();
    this.#items.push(item);
    this.#chars += chars;
    if (this.#scheduled || this.#held) return;
    const wait = this.#busySince === undefined ? 0 : (this.#limits.holdMs ?? 0) - (performance.now() - this.#busySince);
    if (wait > 0) this.#held = setTimeout(() => this.flush(), wait);
    else this.#scheduled = setImmediate(() => this.flush());
  }

  /** Hands over what is gathered now (before something that must follow it). */
  flush(): void {
    const items = this.#take();
    if (items.length === 0) return;
    this.#busySince = this.#limits.holdMs === undefined ? undefined : performance.now();
    this.#deliver(items);
  }

  /** Drops what is gathered (its stream was cancelled). */
  discard(): void {
    this.#take();
  }

  #take(): T[] {
    clearImmediate(this.#scheduled);
    clearTimeout(this.#held);
    this.#scheduled = undefined;
    this.#held = undefined;
    const items = this.#items;
    this.#items = [];
    this.#chars = 0;
    return items;
  }
}
