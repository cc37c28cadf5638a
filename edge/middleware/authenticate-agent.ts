import { createMiddleware } from "hono/factory";
import { KaiError } from "../../shared/errors";
import type { AgentTokenEnv } from "../env";
import { hostByAgentToken } from "../hosts/hosts";

/**
 * kai-agent's own HTTP requests (the doctor's `whoami` and `ping`): the bearer is the host's
 * agent token, checked by its hash as `/api/agent/connect` checks it. The host is the
 * token's, so there is nothing to choose and nobody else's host to reach.
 */
export const authenticateAgent = createMiddleware<AgentTokenEnv>(async (c, next) => {
  const token = /^Bearer\s+(\S+)$/i.exec(c.req.header("Authorization") ?? "")?.[1];
  const host = token ? await hostByAgentToken(c.var.db, token) : undefined;
  if (!host) {
    throw new KaiError(
      "UNAUTHORIZED",
      "the agent token is invalid or was revoked; enroll the host again (POST /api/hosts) and run kai-agent login",
    );
  }
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
