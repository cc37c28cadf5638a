import { DurableObject } from "cloudflare:workers";
import type { Bindings } from "./env";

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
 * the Workers rate-limiting binding (approximate, per location) would not be.
 */
export class RateLimiter extends DurableObject<Bindings> {
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
