import { createMiddleware } from "hono/factory";
import { KaiError } from "../../shared/errors";
import type { Db } from "../db/client";
import type { AgentTokenEnv } from "../env";
import { agentTokenHash, type HostRow, hostByAgentTokenHash } from "../hosts/hosts";

const invalidAgentToken = () =>
  new KaiError(
    "UNAUTHORIZED",
    "the agent token is invalid or was revoked; enroll the machine again (kai-agent login, or POST /api/hosts)",
  );

/**
 * The hash of the request's bearer when it is an agent token, read from the header alone (no
 * D1): anything else is 401. `/api/agent/connect` paces a dial by it before the token is looked up.
 */
export async function agentTokenHashOf(authorization: string | undefined): Promise<string> {
  const token = /^Bearer\s+(\S+)$/i.exec(authorization ?? "")?.[1];
  const tokenHash = token ? await agentTokenHash(token) : undefined;
  if (!tokenHash) throw invalidAgentToken();
  return tokenHash;
}

/** The host whose agent token has this hash (one D1 read); none is 401. */
export async function agentHostByHash(db: Db, tokenHash: string): Promise<HostRow> {
  const host = await hostByAgentTokenHash(db, tokenHash);
  if (!host) throw invalidAgentToken();
  return host;
}

/**
 * The host whose agent token is the request's bearer, checked by its hash; anything else is
 * 401. `/api/agent/connect` and kai-agent's own HTTP requests check it the same way.
 */
export async function agentHostOf(db: Db, authorization: string | undefined): Promise<HostRow> {
  return agentHostByHash(db, await agentTokenHashOf(authorization));
}

/**
 * kai-agent's own HTTP requests (the doctor's `whoami` and `ping`): the host is the agent
 * token's, so there is nothing to choose and nobody else's host to reach.
 */
export const authenticateAgent = createMiddleware<AgentTokenEnv>(async (c, next) => {
  const host = await agentHostOf(c.var.db, c.req.header("Authorization"));
  c.set("host", host);
  c.set("agent", {
    env: c.env,
    hostId: host.id,
    userId: host.userId,
    // Nothing this token opens is a stream a revocation must close: no credential tag.
    credential: undefined,
    timeoutMs: c.var.config.AGENT_TIMEOUT_MS,
  });
  return next();
});
