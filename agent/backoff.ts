/**
 * Reconnect delays: exponential from `baseMs` to `capMs`, each drawn uniformly from the
 * upper half of its step ("equal jitter"), so a fleet of agents that lost the edge at the
 * same moment does not come back in one wave, and none waits longer than the cap.
 */
export interface BackoffOptions {
  baseMs?: number;
  capMs?: number;
  random?: () => number;
}

export class Backoff {
  readonly baseMs: number;
  readonly capMs: number;
  readonly #random: () => number;
  #attempt = 0;

  constructor({ baseMs = 100, capMs = 10_000, random = Math.random }: BackoffOptions = {}) {
    this.baseMs = baseMs;
    this.capMs = capMs;
    this.#random = random;
  }

  /** The delay before the next attempt. */
  next(): number {
    const step = Math.min(this.capMs, this.baseMs * 2 ** this.#attempt);
    this.#attempt += 1;
    return Math.round(step / 2 + this.#random() * (step / 2));
  }

  /** Called once a connection is established and welcomed. */
  reset(): void {
    this.#attempt = 0;
  }
}
