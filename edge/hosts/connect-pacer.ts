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

/**
 * How long a connect's turn is held past a renewal: the hello is being recorded and the write
 * is slow. The hello's D1 write needs no more than this unless it is stuck, and a stuck one
 * must not hold a turn forever (a lease is renewed once).
 */
const CONNECT_RENEWAL_MS = 15_000;

/** Keeps a connect's turn while its hello is still being recorded; like a release, a failure is only logged. */
export async function renewConnectTurn(env: Pick<Bindings, "RATE_LIMITER">, lease: string): Promise<void> {
  try {
    await connectPacer(env).renew(lease, CONNECT_RENEWAL_MS);
  } catch (error) {
    console.error(`renewing a connect turn failed (${messageOf(error)})`);
  }
}

/** The agent token whose hash is `tokenHash` is no host's any more: the pacer forgets whose it was; a failure is only logged. */
export async function forgetDialer(env: Pick<Bindings, "RATE_LIMITER">, tokenHash: string): Promise<void> {
  try {
    await connectPacer(env).forgetDialer(tokenHash);
  } catch (error) {
    console.error(`telling the connect pacer a token is gone failed (${messageOf(error)})`);
  }
}
