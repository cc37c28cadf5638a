import { DurableObject } from "cloudflare:workers";
import type { Bindings } from "./env";

export interface RateDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** When the window resets, in UTC epoch seconds (as `X-RateLimit-Reset` documents). */
  resetAt: number;
}

type PaceDecision = { admitted: true; waitMs: number } | { admitted: false; retryAfterMs: number };

/** The furthest a refused caller of `pace` is sent away. */
const MAX_RETRY_AFTER_MS = 60_000;

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
  /**
   * When the next paced caller may go ("theoretical arrival time" of the generic cell rate
   * algorithm), the turns handed out and not yet due, and the next time a refused caller is
   * told to come back. Memory only: after an eviction the bucket simply starts idle again.
   */
  #nextSlot = 0;
  readonly #turns = new Map<string, { at: number; group: string }>();
  #nextRetry = 0;
  /** When each refused holder was told to come back: asking again does not push others back. */
  readonly #refused = new Map<string, number>();

  /**
   * Hands each caller its own turn, `intervalMs` apart after a burst of `burst`: the caller
   * waits `waitMs` before going ahead. A `holder` that already has a turn coming shares it
   * rather than taking another, and one `group` holds at most `maxPerGroup` turns, so one
   * party dialling in a loop cannot crowd out the rest. A caller whose turn would be more
   * than `maxWaitMs` away is refused without taking one, and told when to come back; those
   * times are spread `intervalMs` apart too, so the refused do not return as one wave.
   */
  async pace(options: {
    intervalMs: number;
    burst: number;
    maxWaitMs: number;
    holder: string;
    group: string;
    maxPerGroup: number;
  }): Promise<PaceDecision> {
    const { intervalMs, burst, maxWaitMs, holder, group, maxPerGroup } = options;
    const now = Date.now();
    for (const [key, turn] of this.#turns) if (turn.at <= now) this.#turns.delete(key);
    for (const [key, at] of this.#refused) if (at <= now) this.#refused.delete(key);
    const held = this.#turns.get(holder);
    if (held) return { admitted: true, waitMs: held.at - now };
    const told = this.#refused.get(holder);
    if (told) return { admitted: false, retryAfterMs: told - now };

    const slot = Math.max(this.#nextSlot, now);
    const waitMs = Math.max(0, slot - (burst - 1) * intervalMs - now);
    const groupTurns = [...this.#turns.values()].filter((turn) => turn.group === group).length;
    if (waitMs > maxWaitMs || (waitMs > 0 && groupTurns >= maxPerGroup)) {
      // Spread one interval apart, but never more than a minute off.
      const retryAt = Math.min(
        now + MAX_RETRY_AFTER_MS,
        Math.max(this.#nextRetry, now + Math.max(intervalMs, waitMs - maxWaitMs / 2)),
      );
      this.#nextRetry = retryAt + intervalMs;
      this.#refused.set(holder, retryAt);
      return { admitted: false, retryAfterMs: retryAt - now };
    }
    this.#nextSlot = slot + intervalMs;
    if (waitMs > 0) this.#turns.set(holder, { at: now + waitMs, group });
    return { admitted: true, waitMs };
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
