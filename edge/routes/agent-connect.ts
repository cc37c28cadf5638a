import { type Context, Hono } from "hono";
import { KaiError } from "../../shared/errors";
import { MAX_CONNECT_WAIT_MS } from "../../shared/protocol";
import type { AppEnv } from "../env";
import { HELLO_TIMEOUT_MS } from "../host-relay/agent-connections";
import { CONNECT_LEASE_HEADER, HOST_ID_HEADER, HOST_NAME_HEADER, HOST_OWNER_HEADER } from "../host-relay/host-relay";
import { hostRelay } from "../host-relay/stub";
import { upgradeRequest } from "../host-relay/upgrade";
import { connectPacer, learnDialer, releaseConnectTurn } from "../hosts/connect-pacer";
import { agentHostByHash, agentHostOf, agentTokenHashOf } from "../middleware/authenticate-agent";

/** Turns one user's hosts may hold at once, queued or in flight: a fleet of thousands waits its turn in rounds. */
const MAX_TURNS_PER_USER = 100;
/**
 * How long a connect's turn is held at most once it started: the host's object closes a socket
 * that has not said hello within HELLO_TIMEOUT_MS and then frees the turn, and recording a
 * hello takes a D1 write (a slow one renews the turn: SLOW_HELLO_WRITE_MS in
 * edge/host-relay/agent-connections.ts). A turn still held past this was lost (its Worker died mid-connect).
 */
const CONNECT_LEASE_MS = HELLO_TIMEOUT_MS + 5_000;

/**
 * `GET /api/agent/connect`: where `kai-agent` dials in. The dial waits for its turn in the
 * edge-wide connect pace first, by its token's hash alone, then the agent token is checked
 * (one D1 read) and the upgrade is handed to the host's Durable Object, which holds the
 * socket. So a herd of dials the pace refuses costs no D1 read: after an edge restart, every
 * agent dials at once, again and again until let in.
 */
export const agentConnect = new Hono<AppEnv>();

agentConnect.get("/", async (c) => {
  const authorization = c.req.header("Authorization");
  if (c.req.header("Upgrade")?.toLowerCase() !== "websocket") {
    await agentHostOf(c.var.db, authorization);
    throw new KaiError("BAD_REQUEST", "this endpoint only accepts a WebSocket upgrade from kai-agent");
  }
  // Not an agent token at all: 401 at once, with no turn and no read.
  const tokenHash = await agentTokenHashOf(authorization);
  const turn = await waitForTurn(c, tokenHash);
  let response: Response | undefined;
  try {
    const host = await agentHostByHash(c.var.db, tokenHash);
    if (!turn.known) c.executionCtx.waitUntil(learnDialer(c.env, tokenHash, host.userId));
    response = await hostRelay(c.env, host.id).fetch(
      upgradeRequest(c.req.raw, {
        [HOST_ID_HEADER]: host.id,
        [HOST_NAME_HEADER]: host.name,
        [HOST_OWNER_HEADER]: host.userId,
        [CONNECT_LEASE_HEADER]: turn.lease,
      }),
    );
    return response;
  } finally {
    // Upgraded, the host's object frees the turn once it recorded the hello; otherwise (the
    // token was refused, the object failed) nothing will.
    if (response?.status !== 101) c.executionCtx.waitUntil(releaseConnectTurn(c.env, turn.lease));
  }
});

/**
 * Paces agent connections edge-wide: after an edge restart every agent dials within the
 * same second, and each connect costs D1 reads and writes. Each dial gets its own turn and waits for
 * it here (waiting costs a Worker no CPU). Turns are admitted by completions: at most
 * AGENT_CONNECT_BURST connects are between their turn and their recorded hello at once, and
 * they start no faster than AGENT_CONNECT_RATE_PER_SECOND, so an edge slower than the pace
 * takes in what it finishes instead of piling up dials its agents give up on. Users share the
 * connects in flight fairly (one alone gets them all; a freed one goes first to a user holding
 * less than an equal part), so hosts that dial and never say hello cannot lock others out. The
 * user is the one the pacer learnt the token belongs to (DialGroups: tokens it never saw
 * checked share one group). One whose turn is too far off is told when to come back. Returns
 * the turn's lease, and whether the pacer knew the token's user.
 */
async function waitForTurn(c: Context<AppEnv>, tokenHash: string): Promise<{ lease: string; known: boolean }> {
  const { AGENT_CONNECT_RATE_PER_SECOND: rate, AGENT_CONNECT_BURST: burst } = c.var.config;
  const turn = await connectPacer(c.env).paceDial({
    intervalMs: 1000 / rate,
    burst,
    maxWaitMs: MAX_CONNECT_WAIT_MS,
    holder: tokenHash,
    maxPerGroup: MAX_TURNS_PER_USER,
    inFlight: burst,
    leaseMs: CONNECT_LEASE_MS,
  });
  if (!turn.admitted) {
    const retryAfter = Math.ceil(turn.retryAfterMs / 1000);
    throw new KaiError("RATE_LIMITED", `too many agents are connecting; try again in ${retryAfter} s`, {
      headers: { "Retry-After": String(retryAfter) },
      details: { retryAfterSeconds: retryAfter },
    });
  }
  if (turn.waitMs > 0) await new Promise((resolve) => setTimeout(resolve, turn.waitMs));
  return { lease: turn.lease, known: turn.known };
}
