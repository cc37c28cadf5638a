/** How many frames one viewer socket may send: `burst` at once, then `perSecond` on average. */
export interface FrameRate {
  burst: number;
  perSecond: number;
  /** Refused frames in a row after which the socket is closed: a client that ignores the refusals. */
  closeAfter: number;
}

/**
 * A session viewer sends a message, a cancel or an answer now and then; 20 at once and one a
 * second after that is far above what a person does, and far below what would keep the host's
 * object busy.
 */
export const VIEWER_FRAME_RATE: FrameRate = { burst: 20, perSecond: 1, closeAfter: 50 };

export type Verdict = "accepted" | "refused" | "abusive";

interface Bucket {
  tokens: number;
  at: number;
  /** Frames refused since the last one accepted. */
  refused: number;
}

/**
 * A token bucket per socket, in memory: a socket's budget starts full again after the object
 * was evicted, which only happens after it sat idle, so nothing is lost that mattered.
 */
export class FrameBudget {
  readonly #buckets = new WeakMap<WebSocket, Bucket>();

  constructor(private readonly rate: FrameRate = VIEWER_FRAME_RATE) {}

  /** Spends one frame of the socket's budget: `refused` over it, `abusive` once refused `closeAfter` times in a row. */
  spend(socket: WebSocket, now = Date.now()): Verdict {
    const { burst, perSecond, closeAfter } = this.rate;
    const bucket = this.#buckets.get(socket) ?? { tokens: burst, at: now, refused: 0 };
    this.#buckets.set(socket, bucket);
    bucket.tokens = Math.min(burst, bucket.tokens + (Math.max(0, now - bucket.at) * perSecond) / 1000);
    bucket.at = now;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      bucket.refused = 0;
      return "accepted";
    }
    bucket.refused += 1;
    return bucket.refused >= closeAfter ? "abusive" : "refused";
  }
}
