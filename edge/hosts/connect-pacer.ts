import { messageOf } from "../../shared/errors";
import type { Bindings } from "../env";

type Env = Pick<Bindings, "RATE_LIMITER">;

/** The one edge-wide pacer of agent connects (a RateLimiter bucket). */
export function connectPacer(env: Env) {
  return env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName("agent-connect"));
}

/**
 * Tells the pacer something it can do without: a turn not released or renewed only lasts
 * until its lease ends, and a token not forgotten is read and refused on its next dial. So a
 * failure here is logged, not thrown.
 */
async function tellPacer(env: Env, what: string, tell: (pacer: ReturnType<typeof connectPacer>) => Promise<void>) {
  try {
    await tell(connectPacer(env));
  } catch (error) {
    console.error(`${what} failed (${messageOf(error)})`);
  }
}

/** Frees a connect's turn: its hello was recorded, or the dial failed. */
export function releaseConnectTurn(env: Env, lease: string): Promise<void> {
  return tellPacer(env, "releasing a connect turn", (pacer) => pacer.release(lease));
}

/**
 * How long a connect's turn is held past a renewal: the hello is being recorded and the write
 * is slow. The hello's D1 write needs no more than this unless it is stuck, and a stuck one
 * must not hold a turn forever (a lease is renewed once).
 */
const CONNECT_RENEWAL_MS = 15_000;

/** Keeps a connect's turn while its hello is still being recorded. */
export function renewConnectTurn(env: Env, lease: string): Promise<void> {
  return tellPacer(env, "renewing a connect turn", (pacer) => pacer.renew(lease, CONNECT_RENEWAL_MS));
}

/** A token read the pacer let go (`paceDial`) ended without a check: its place among the reads is free. */
export function endFailedTokenRead(env: Env): Promise<void> {
  return tellPacer(env, "ending a failed token read", (pacer) => pacer.tokenReadFailed());
}

/**
 * The edge just issued an agent token (an enrollment, a device login): the pacer learns whose it
 * is now, so even that host's first dial waits for its turn before any read, as every later one
 * does. A herd of hosts enrolled together and started at once is then paced as an edge restart
 * is, instead of a thousand token reads first. Told, not awaited: a pacer that missed it reads the
 * token on the first dial, as before.
 */
export function expectDialer(env: Env, tokenHash: string, userId: string): Promise<void> {
  return tellPacer(env, "telling the connect pacer of a new agent token", (pacer) =>
    pacer.expectDialer(tokenHash, userId),
  );
}

/** The agent token whose hash is `tokenHash` is no host's any more: the pacer forgets whose it was. */
export function forgetDialer(env: Env, tokenHash: string): Promise<void> {
  return tellPacer(env, "telling the connect pacer a token is gone", (pacer) => pacer.forgetDialer(tokenHash));
}
