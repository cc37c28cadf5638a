import { DurableObject } from "cloudflare:workers";
import { ConnectTurns, type TurnDecision, type TurnOptions } from "./connect-turns";
import type { Bindings } from "./env";
import { DialGroups, UNKNOWN_DIALER } from "./hosts/dial-groups";

/** An agent dial's turn, and whether the pacer knew whose dial it was (else the Worker tells it, once the token is checked). */
export type DialTurn = TurnDecision & { known: boolean };

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
   * An agent dial's turn, before its token is read: `holder` is the token's hash, and the dial
   * is grouped with its user's when a check of that token told the pacer whose it is
   * (`learnDialer`), else with the unknown (DialGroups).
   */
  async paceDial(options: Omit<TurnOptions, "group">): Promise<DialTurn> {
    const group = new DialGroups(this.ctx.storage.kv).of(options.holder);
    const decision = await this.#turns.take({ ...options, group: group ?? UNKNOWN_DIALER });
    return { ...decision, known: group !== undefined };
  }

  /** The token whose hash is `holder` was checked and belongs to `userId`: its next dials are grouped with that user's. */
  learnDialer(holder: string, userId: string): void {
    new DialGroups(this.ctx.storage.kv).learn(holder, userId);
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
    const now = Date.now();
    const windowMs = windowSeconds * 1000;
    let window = await this.ctx.storage.get<Window>("window");
    if (!window || now >= window.startedAt + windowMs) {
      window = { startedAt: now, count: 0 };
      // Forget the bucket once its window is over, so idle buckets cost no storage.
      await this.ctx.storage.setAlarm(now + windowMs + 1000);
    }
    const allowed = window.count < limit;
    if (allowed) {
      window.count += 1;
      await this.ctx.storage.put("window", window);
    }
    return {
      allowed,
      limit,
      remaining: Math.max(0, limit - window.count),
      resetAt: Math.ceil((window.startedAt + windowMs) / 1000),
    };
  }

  override async alarm(): Promise<void> {
    await this.ctx.storage.deleteAll();
  }
}
