/**
 * The newest `capacity` items, oldest first: a push beyond it drops the oldest. Backed by one
 * array with a start offset that is compacted once per `capacity` drops, so a push is O(1)
 * amortised and reading a window is a plain index.
 */
export class LineBuffer<T> {
  #items: T[] = [];
  #start = 0;
  /** How many items were dropped to stay within `capacity`. */
  dropped = 0;

  constructor(readonly capacity: number) {}

  get length(): number {
    return this.#items.length - this.#start;
  }

  push(item: T): void {
    this.#items.push(item);
    if (this.length > this.capacity) {
      this.#start += 1;
      this.dropped += 1;
    }
    if (this.#start >= this.capacity) {
      this.#items = this.#items.slice(this.#start);
      this.#start = 0;
    }
  }

  /** The `index`th item kept (0 is the oldest still kept). */
  at(index: number): T | undefined {
    return index < 0 || index >= this.length ? undefined : this.#items[this.#start + index];
  }

  /** The items kept, oldest first (a copy). */
  toArray(): T[] {
    return this.#items.slice(this.#start);
  }

  clear(): void {
    this.#items = [];
    this.#start = 0;
  }
}
