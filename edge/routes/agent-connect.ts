import { type Context, Hono } from "hono";
import { KaiError } from "../../shared/errors";
import { MAX_CONNECT_WAIT_MS } from "../../shared/protocol";
import type { TurnDecision, TurnOptions } from "../connect-turns";
import type { AppEnv } from "../env";
import { HELLO_TIMEOUT_MS } from "../host-relay/agent-connections";
import { CONNECT_LEASE_HEADER, HOST_ID_HEADER, HOST_NAME_HEADER, HOST_OWNER_HEADER } from "../host-relay/host-relay";
import { hostRelay } from "../host-relay/stub";
import { upgradeRequest } from "../host-relay/upgrade";
import { connectPacer, endFailedTokenRead, forgetDialer, releaseConnectTurn } from "../hosts/connect-pacer";
import type { HostRow } from "../hosts/hosts";
import { agentHostByHash, agentHostOf, agentTokenHashOf } from "../middleware/authenticate-agent";
import { clientIp } from "../middleware/client-ip";
import { BAD_AGENT_TOKENS_PER_IP, countAgainst, refuseWhenSpent } from "../middleware/rate-limit";

/** Turns one user's hosts may hold at once, queued or in flight: a fleet of thousands waits its turn in rounds. */
const MAX_TURNS_PER_USER = 100;
/**
 * How long a connect's turn is held at most once it started: the Worker reads the dial's token
 * (one D1 read, which a restart herd can slow), the host's object closes a socket that has not
 * said hello within HELLO_TIMEOUT_MS and then frees the turn, and recording a hello takes a D1
 * write (one still running after SLOW_HELLO_WRITE_MS renews the turn: edge/host-relay/agent-connections.ts).
 * So it allows the read TOKEN_READ_MS and the renewal's call a few seconds. A turn still held
 * past this was lost (its Worker died mid-connect).
 */
const TOKEN_READ_MS = 5_000;
const CONNECT_LEASE_MS = TOKEN_READ_MS + HELLO_TIMEOUT_MS + 5_000;

/**
 * `GET /api/agent/connect`: where `kai-agent` dials in. A dial whose token the pacer saw
 * checked before waits for its turn in the edge-wide connect pace first, by the token's hash
 * alone, and then the token is read (one D1 read); so a herd of known hosts the pace refuses
 * (after an edge restart, every agent dials at once, again and again until let in) costs no
 * D1 read. The pacer learns a token as the edge issues it (`expectDialer`), so a new host's
 * first dial is paced the same way. A token it does not know (it missed the issue, or a forged
 * one) is read first, so a forged one is refused with no turn taken; those reads are bounded
 * too (at most AGENT_CONNECT_BURST under way, the rest told to come back). Then the upgrade
 * is handed to the host's Durable Object, which holds the socket.
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
  let host: HostRow | undefined;
  const options = dialOptions(c, tokenHash);
  let turn = await connectPacer(c.env).paceDial({ ...options, reads: { max: options.burst, ms: TOKEN_READ_MS } });
  if (!turn) {
    // Read first, so only a token that is some host's takes a turn.
    host = await readUnknownToken(c, tokenHash).catch((error: unknown) => {
      c.executionCtx.waitUntil(endFailedTokenRead(c.env));
      throw error;
    });
    turn = await connectPacer(c.env).paceCheckedDial(options, host.userId);
  }
  const lease = await waitForTurn(turn);
  let response: Response | undefined;
  try {
    host ??= await agentHostByHash(c.var.db, tokenHash).catch((error: unknown) => {
      // Known to the pacer but no host's now (revoked, re-enrolled): its next dials are read first.
      if (isUnauthorized(error)) c.executionCtx.waitUntil(forgetDialer(c.env, tokenHash));
      throw error;
    });
    response = await hostRelay(c.env, host.id).fetch(
      upgradeRequest(c.req.raw, {
        [HOST_ID_HEADER]: host.id,
        [HOST_NAME_HEADER]: host.name,
        [HOST_OWNER_HEADER]: host.userId,
        [CONNECT_LEASE_HEADER]: lease,
      }),
    );
    return response;
  } finally {
    // Upgraded, the host's object frees the turn once it recorded the hello; otherwise (the
    // token was refused, the object failed) nothing will.
    if (response?.status !== 101) c.executionCtx.waitUntil(releaseConnectTurn(c.env, lease));
  }
});

/**
 * Reads a token the pacer never saw checked; an IP that sent many that are no host's is refused
 * before the read (BAD_AGENT_TOKENS_PER_IP).
 */
async function readUnknownToken(c: Context<AppEnv>, tokenHash: string): Promise<HostRow> {
  const ip = clientIp(c);
  await refuseWhenSpent(c, BAD_AGENT_TOKENS_PER_IP, ip);
  return agentHostByHash(c.var.db, tokenHash).catch(async (error: unknown) => {
    if (isUnauthorized(error)) await countAgainst(c, BAD_AGENT_TOKENS_PER_IP, ip);
    throw error;
  });
}

/**
 * Paces agent connections edge-wide: after an edge restart every agent dials within the
 * same second, and each connect costs D1 reads and writes. Each dial gets its own turn and waits for
 * it here (waiting costs a Worker no CPU). Turns are admitted by completions: at most
 * AGENT_CONNECT_BURST connects are between their turn and their recorded hello at once, and
 * they start no faster than AGENT_CONNECT_RATE_PER_SECOND, so an edge slower than the pace
 * takes in what it finishes instead of piling up dials its agents give up on. Users share the
 * connects in flight fairly (one alone gets them all; a freed one goes first to a user holding
 * less than an equal part), so hosts that dial and never say hello cannot lock others out. The
 * user is the one the pacer learnt the token belongs to (DialGroups), or the one the token was
 * just read to be (a token the pacer did not know). One whose turn is too far off is told when
 * to come back. These are the options of a dial's turn.
 */
function dialOptions(c: Context<AppEnv>, tokenHash: string): Omit<TurnOptions, "group"> {
  const { AGENT_CONNECT_RATE_PER_SECOND: rate, AGENT_CONNECT_BURST: burst } = c.var.config;
  return {
    intervalMs: 1000 / rate,
    burst,
    maxWaitMs: MAX_CONNECT_WAIT_MS,
    holder: tokenHash,
    maxPerGroup: MAX_TURNS_PER_USER,
    inFlight: burst,
    leaseMs: CONNECT_LEASE_MS,
  };
}

/** Waits for an admitted turn to start and returns its lease; a refused one is 429 with Retry-After. */
async function waitForTurn(turn: TurnDecision): Promise<string> {
  if (!turn.admitted) {
    const retryAfter = Math.ceil(turn.retryAfterMs / 1000);
    throw new KaiError("RATE_LIMITED", `too many agents are connecting; try again in ${retryAfter} s`, {
      headers: { "Retry-After": String(retryAfter) },
      details: { retryAfterSeconds: retryAfter },
    });
  }
  if (turn.waitMs > 0) await new Promise((resolve) => setTimeout(resolve, turn.waitMs));
  return turn.lease;
}

const isUnauthorized = (error: unknown) => error instanceof KaiError && error.code === "UNAUTHORIZED";
