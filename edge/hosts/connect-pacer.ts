import { messageOf } from "../../shared/errors";
import type { Bindings } from "../env";

/** The one edge-wide pacer of agent connects (a RateLimiter bucket). */
export function connectPacer(env: Pick<Bindings, "RATE_LIMITER">) {
  return env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName("agent-connect"));
}

/**
 * Frees a connect's turn: its hello was recorded, or the dial failed. A release that does
 * not arrive only keeps the turn until its lease expires, so a failure here is logged, not thrown.
 */
export async function releaseConnectTurn(env: Pick<Bindings, "RATE_LIMITER">, lease: string): Promise<void> {
  try {
    await connectPacer(env).release(lease);
  } catch (error) {
    console.error(`releasing a connect turn failed (${messageOf(error)})`);
  }
}
