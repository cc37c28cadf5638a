import { DurableObject } from "cloudflare:workers";
import { ConnectTurns, type ReadOptions, type TurnDecision, type TurnOptions } from "./connect-turns";
import type { Bindings } from "./env";
import { DialGroups } from "./hosts/dial-groups";

export interface RateDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** When the window resets, in UTC epoch seconds (as `X-RateLimit-Reset` documents). */
  resetAt: number;
}

interface Window {
  startedAt: number;
  count: number;
}

/**
 * One fixed-window counter per bucket (an IP, an account), addressed by name. A Durable
 * Object is single-threaded and its storage calls are gated, so the count is exact, which
 * the Workers rate-limiting binding (approximate, per location) would not be. A bucket can
 * also pace instead of refuse (`pace`), for callers that should wait their turn.
 */
export class RateLimiter extends DurableObject<Bindings> {
  /** The bucket's turns when it paces (memory only: after an eviction it simply starts idle again). */
  readonly #turns = new ConnectTurns();

  /**
   * Hands each caller its own turn (`ConnectTurns`): the caller waits `waitMs` and then goes
   * ahead, or is refused and told when to come back. With `inFlight`, a turn's lease is held
   * until `release` (or until it expires), and the next turn waits for one to come free.
   */
  pace(options: TurnOptions): Promise<TurnDecision> {
    return this.#turns.take(options);
  }

  /**
   * An agent dial's turn before its token is read, `holder` being the token's hash: grouped
   * with the user the token was issued to or a check of it showed it belongs to (DialGroups).
   * A token the pacer never saw issued or checked gets no turn: undefined, so the Worker reads it first and then asks
   * `paceCheckedDial`, or, while `reads.max` such reads are under way already (a herd of first
   * dials), a refusal (ConnectTurns.read). So a forged token never holds a turn nor adds to the
   * pacer's state.
   */
  paceDial(
    options: Omit<TurnOptions, "group"> & { reads?: Pick<ReadOptions, "max" | "ms"> },
  ): Promise<TurnDecision> | TurnDecision | undefined {
    const { reads, ...turn } = options;
    const userId = new DialGroups(this.ctx.storage.kv).of(turn.holder);
    if (userId === undefined) return reads ? this.#turns.read({ ...turn, ...reads }) : undefined;
    return this.#turns.take({ ...turn, group: userId });
  }

  /** An agent dial's turn once its token was read and found `userId`'s, which the pacer keeps for the token's next dials. */
  paceCheckedDial(options: Omit<TurnOptions, "group">, userId: string): Promise<TurnDecision> {
    this.#turns.readDone();
    const groups = new DialGroups(this.ctx.storage.kv);
    if (groups.of(options.holder) !== userId) groups.learn(options.holder, userId);
    return this.#turns.take({ ...options, group: userId });
  }

  /** A token read that `paceDial` let go failed (no host has the token, or D1 did not answer): the next read may go. */
  tokenReadFailed(): void {
    this.#turns.readDone();
  }

  /** The edge just issued the agent token whose hash is `holder` to one of `userId`'s hosts. */
  expectDialer(holder: string, userId: string): void {
    new DialGroups(this.ctx.storage.kv).learn(holder, userId);
  }

  /** The token whose hash is `holder` is no host's any more (revoked, or its host deleted): its dials are read first again. */
  forgetDialer(holder: string): void {
    new DialGroups(this.ctx.storage.kv).forget(holder);
  }

  /** The work admitted on `lease` completed or failed. */
  release(lease: string): void {
    this.#turns.release(lease);
  }

  /** The work admitted on `lease` is still under way: it holds the lease `ms` more (once). */
  renew(lease: string, ms: number): void {
    this.#turns.renew(lease, ms);
  }

  async hit(limit: number, windowSeconds: number): Promise<RateDecision> {
    const windowMs = windowSeconds * 1000;
    let window = await this.#window(windowMs);
    if (!window) {
      window = { startedAt: Date.now(), count: 0 };
      // Forget the bucket once its window is over, so idle buckets cost no storage.
      await this.ctx.storage.setAlarm(window.startedAt + windowMs + 1000);
    }
    const allowed = window.count < limit;
    if (allowed) {
      window.count += 1;
      await this.ctx.storage.put("window", window);
    }
    return { ...decisionOf(window, limit, windowMs), allowed };
  }

  /** Whether one more request would be allowed, without counting one. */
  async peek(limit: number, windowSeconds: number): Promise<RateDecision> {
    const windowMs = windowSeconds * 1000;
    return decisionOf((await this.#window(windowMs)) ?? { startedAt: Date.now(), count: 0 }, limit, windowMs);
  }

  /** The bucket's window, unless there is none or it is over. */
  async #window(windowMs: number): Promise<Window | undefined> {
    const window = await this.ctx.storage.get<Window>("window");
    return window && Date.now() < window.startedAt + windowMs ? window : undefined;
  }

  override async alarm(): Promise<void> {
    await this.ctx.storage.deleteAll();
  }
}

function decisionOf(window: Window, limit: number, windowMs: number): RateDecision {
  return {
    allowed: window.count < limit,
    limit,
    remaining: Math.max(0, limit - window.count),
    resetAt: Math.ceil((window.startedAt + windowMs) / 1000),
  };
}
