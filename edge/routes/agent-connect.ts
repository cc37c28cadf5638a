import { Hono } from "hono";
import { KaiError } from "../../shared/errors";
import { database } from "../db/client";
import type { AppEnv } from "../env";
import { HOST_ID_HEADER, HOST_NAME_HEADER, HOST_OWNER_HEADER } from "../host-session/host-session";
import { upgradeRequest } from "../host-session/upgrade";
import { hostByAgentToken } from "../hosts/hosts";

/**
 * `GET /api/agent/connect`: where `kai-agent` dials in. The agent token is checked here,
 * then the upgrade is handed to the host's Durable Object, which holds the socket.
 */
export const agentConnect = new Hono<AppEnv>();

agentConnect.get("/", async (c) => {
  const token = /^Bearer\s+(\S+)$/i.exec(c.req.header("Authorization") ?? "")?.[1];
  const host = token ? await hostByAgentToken(database(c.env.DB), token) : undefined;
  if (!host) {
    throw new KaiError("UNAUTHORIZED", "the agent token is invalid or was revoked; enroll the host again with POST /api/hosts");
  }
  if (c.req.header("Upgrade")?.toLowerCase() !== "websocket") {
    throw new KaiError("BAD_REQUEST", "this endpoint only accepts a WebSocket upgrade from kai-agent");
  }
  const session = c.env.HOST_SESSION.get(c.env.HOST_SESSION.idFromName(host.id));
  return session.fetch(upgradeRequest(c.req.raw, { [HOST_ID_HEADER]: host.id, [HOST_NAME_HEADER]: host.name, [HOST_OWNER_HEADER]: host.userId }));
});
