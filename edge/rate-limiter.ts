import { DurableObject } from "cloudflare:workers";
import type { Bindings } from "./env";

export interface RateDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** When the window resets, in UTC epoch seconds (as `X-RateLimit-Reset` documents). */
  resetAt: number;
}

export type PaceDecision = { admitted: true; waitMs: number } | { admitted: false; retryAfterMs: number };

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
   * algorithm). Memory only: after an eviction the bucket simply starts idle again.
   */
  #nextSlot = 0;

  /**
   * Hands each caller its own turn, `intervalMs` apart after a burst of `burst`: the caller
   * waits `waitMs` before going ahead. A caller whose turn is more than `maxWaitMs` away
   * is refused, without taking a turn, and told when to come back.
   */
  async pace(intervalMs: number, burst: number, maxWaitMs: number): Promise<PaceDecision> {
    const now = Date.now();
    const slot = Math.max(this.#nextSlot, now);
    const waitMs = Math.max(0, slot - (burst - 1) * intervalMs - now);
    if (waitMs > maxWaitMs) return { admitted: false, retryAfterMs: waitMs - maxWaitMs / 2 };
    this.#nextSlot = slot + intervalMs;
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
