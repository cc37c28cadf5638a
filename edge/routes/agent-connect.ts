import { type Context, Hono } from "hono";
import { KaiError } from "../../shared/errors";
import { MAX_CONNECT_WAIT_MS } from "../../shared/protocol";
import type { AppEnv } from "../env";
import { HOST_ID_HEADER, HOST_NAME_HEADER, HOST_OWNER_HEADER } from "../host-relay/host-relay";
import { hostRelay } from "../host-relay/stub";
import { upgradeRequest } from "../host-relay/upgrade";
import { agentHostOf } from "../middleware/authenticate-agent";

/** Turns one user's hosts may hold at once: a fleet of thousands waits its turn in rounds. */
const MAX_TURNS_PER_USER = 100;

/**
 * `GET /api/agent/connect`: where `kai-agent` dials in. The agent token is checked here,
 * the dial waits for its turn in the edge-wide connect pace, then the upgrade is handed to
 * the host's Durable Object, which holds the socket.
 */
export const agentConnect = new Hono<AppEnv>();

agentConnect.get("/", async (c) => {
  const host = await agentHostOf(c.var.db, c.req.header("Authorization"));
  if (c.req.header("Upgrade")?.toLowerCase() !== "websocket") {
    throw new KaiError("BAD_REQUEST", "this endpoint only accepts a WebSocket upgrade from kai-agent");
  }
  await waitForTurn(c, host);
  return hostRelay(c.env, host.id).fetch(
    upgradeRequest(c.req.raw, {
      [HOST_ID_HEADER]: host.id,
      [HOST_NAME_HEADER]: host.name,
      [HOST_OWNER_HEADER]: host.userId,
    }),
  );
});

/**
 * Paces agent connections edge-wide: after an edge restart every agent dials within the
 * same second, and each connect costs D1 writes. Each dial gets its own turn and waits for
 * it here (waiting costs a Worker no CPU), so the herd arrives spread out at the configured
 * rate; one whose turn is too far off is told when to come back.
 */
async function waitForTurn(c: Context<AppEnv>, host: { id: string; userId: string }): Promise<void> {
  const { AGENT_CONNECT_RATE_PER_SECOND: rate, AGENT_CONNECT_BURST: burst } = c.var.config;
  const pacer = c.env.RATE_LIMITER.get(c.env.RATE_LIMITER.idFromName("agent-connect"));
  const turn = await pacer.pace({
    intervalMs: 1000 / rate,
    burst,
    maxWaitMs: MAX_CONNECT_WAIT_MS,
    holder: host.id,
    group: host.userId,
    maxPerGroup: MAX_TURNS_PER_USER,
  });
  if (!turn.admitted) {
    const retryAfter = Math.ceil(turn.retryAfterMs / 1000);
    throw new KaiError("RATE_LIMITED", `too many agents are connecting; try again in ${retryAfter} s`, {
      headers: { "Retry-After": String(retryAfter) },
      details: { retryAfterSeconds: retryAfter },
    });
  }
  if (turn.waitMs > 0) await new Promise((resolve) => setTimeout(resolve, turn.waitMs));
}
