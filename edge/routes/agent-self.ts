import { createRoute } from "@hono/zod-openapi";
import { agentPing, agentWhoami } from "../../shared/schemas/doctor";
import { envelopeErrors } from "../http/openapi";
import { envelopeOf, ok } from "../http/respond";
import { declareRoutes } from "../http/route-group";
import { relay } from "../relay/relay";

/**
 * `/api/agent/whoami` and `/api/agent/ping`: what `kai-agent doctor` asks with the host's
 * agent token: is the token valid and whose, and does a request reach the running agent.
 */
export const agentSelfRoutes = declareRoutes("agent");

agentSelfRoutes.openapi(
  createRoute({
    method: "get",
    path: "/whoami",
    tags: ["agent"],
    summary: "The host this agent token belongs to, and the server's time (kai-agent doctor)",
    responses: {
      200: { description: "The token is valid", content: { "application/json": { schema: envelopeOf(agentWhoami) } } },
      ...envelopeErrors(401),
    },
  }),
  (c) =>
    ok(
      c,
      { hostId: c.var.host.id, name: c.var.host.name, serverTime: new Date().toISOString() },
      "The agent token is valid",
    ),
);

agentSelfRoutes.openapi(
  createRoute({
    method: "post",
    path: "/ping",
    tags: ["agent"],
    summary:
      "A ping through the host relay to this host's connected agent and back (kai-agent doctor's round trip); " +
      "503 AGENT_OFFLINE when no agent is connected",
    responses: {
      200: { description: "The agent answered", content: { "application/json": { schema: envelopeOf(agentPing) } } },
      ...envelopeErrors(401, 503, 504),
    },
  }),
  async (c) => {
    const started = Date.now();
    const pong = await relay(c.var.agent, "ping", {});
    const roundTripMs = Date.now() - started;
    return ok(
      c,
      { roundTripMs, agentTime: pong.agentTime, serverTime: new Date().toISOString() },
      "The agent answered",
    );
  },
);
