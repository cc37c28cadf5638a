import { createRoute } from "@hono/zod-openapi";
import type { Context } from "hono";
import { z } from "zod";
import { KaiError } from "../../shared/errors";
import { agentProfileName } from "../../shared/schemas/agent-profiles";
import { agentSessionResource, agentSessionStatus, approvalResource } from "../../shared/schemas/agent-sessions";
import { agentPrompt, approvalOptionKind } from "../../shared/schemas/command-params";
import { startSession } from "../agent-sessions/start";
import {
  findOwnSession,
  listApprovals,
  listSessions,
  markEnded,
  toApprovalResource,
  toSessionResource,
} from "../agent-sessions/store";
import { startTurn } from "../agent-sessions/turns";
import type { SignedInEnv } from "../env";
import {
  AGENT_SESSION_HEADER,
  AGENT_SESSION_SINCE_HEADER,
  HOST_ID_HEADER,
  HOST_OWNER_HEADER,
  VIEWER_CREDENTIAL_HEADER,
} from "../host-relay/headers";
import { hostRelay } from "../host-relay/stub";
import { upgradeRequest } from "../host-relay/upgrade";
import { findOwnHost } from "../hosts/hosts";
import { parseOrThrow } from "../http/errors";
import { jsonBody, problems } from "../http/openapi";
import { declareRoutes, selectingWorkspace } from "../http/route-group";
import { credentialOf } from "../identity/credentials";
import { agentOf } from "../middleware/select-host";
import { askThrough, relay, succeeded } from "../relay/relay";
import { wantsWebSocket } from "../relay/stream";
import { WORKSPACE_HEADER, WORKSPACE_QUERY } from "../workspaces/resolve";

const tags = ["agent sessions"];
const errors = problems(401, 404, 409, 422, 429, 502, 503, 504);
const json = <T>(schema: T, description = "OK") => ({ description, content: { "application/json": { schema } } });
const sessionIdParam = z.object({ id: z.uuid() });
const sessionDetails = agentSessionResource.extend({ pending_approvals: z.array(approvalResource) });
const sinceQuery = z.object({
  since: z.coerce.number().int().min(0).default(0).describe("The last seq you have; the replay starts after it"),
});
const page = {
  limit: z.coerce.number().int().min(1).max(100).default(20),
  offset: z.coerce.number().int().min(0).max(100_000).default(0),
};

/** `/api/v1/agent-sessions` and `/api/v1/approvals`: coding agents run in a workspace, and their approvals. */
export const agentSessionRoutes = declareRoutes("signedIn");

/** The session the path names, if it is the caller's; with the handle to its host. */
async function ownSession(c: Context<SignedInEnv>, id: string) {
  const session = await findOwnSession(c.var.db, c.var.principal.userId, id);
  const host = await findOwnHost(c.var.db, c.var.principal.userId, session.hostId);
  return { session, agent: agentOf(c, host) };
}

agentSessionRoutes.openapi(
  createRoute(
    selectingWorkspace({
      method: "post",
      path: "/agent-sessions",
      tags,
      summary: "Start a coding agent in a workspace, with one of its host's profiles and an optional first message",
      request: {
        body: jsonBody(
          z
            .object({
              workspace_id: z.uuid().optional().describe(`Or the ${WORKSPACE_HEADER} header`),
              profile: agentProfileName.optional().describe("One of the host's profiles; absent: its default"),
              message: agentPrompt.optional(),
            })
            .strict(),
        ),
      },
      responses: { 201: json(agentSessionResource, "Started"), ...errors },
    }),
  ),
  async (c) => {
    const body = c.req.valid("json");
    const session = await startSession(c, {
      workspaceId: body.workspace_id ?? c.req.header(WORKSPACE_HEADER) ?? c.req.query(WORKSPACE_QUERY),
      profile: body.profile,
    });
    if (!body.message) return c.json(toSessionResource(session), 201);
    const host = await findOwnHost(c.var.db, c.var.principal.userId, session.hostId);
    await startTurn(c.var.db, askThrough(agentOf(c, host)), session, body.message);
    return c.json(toSessionResource(await findOwnSession(c.var.db, c.var.principal.userId, session.id)), 201);
  },
);

agentSessionRoutes.openapi(
  createRoute({
    method: "get",
    path: "/agent-sessions",
    tags,
    summary: "Your agent sessions, newest first, filtered by workspace and status",
    request: {
      query: z.object({ workspace_id: z.uuid().optional(), status: agentSessionStatus.optional(), ...page }),
    },
    responses: {
      200: json(z.object({ sessions: z.array(agentSessionResource), limit: z.number(), offset: z.number() })),
      ...errors,
    },
  }),
  async (c) => {
    const query = c.req.valid("query");
    const rows = await listSessions(c.var.db, c.var.principal.userId, {
      workspaceId: query.workspace_id,
      status: query.status,
      limit: query.limit,
      offset: query.offset,
    });
    return c.json({ sessions: rows.map(toSessionResource), limit: query.limit, offset: query.offset }, 200);
  },
);

agentSessionRoutes.openapi(
  createRoute({
    method: "get",
    path: "/agent-sessions/{id}",
    tags,
    summary: "One session: status, pending approvals, usage, the last message's seq, the stop reason",
    request: { params: sessionIdParam },
    responses: { 200: json(sessionDetails), ...errors },
  }),
  async (c) => {
    const userId = c.var.principal.userId;
    const session = await findOwnSession(c.var.db, userId, c.req.valid("param").id);
    const pending = await listApprovals(c.var.db, userId, { sessionId: session.id, limit: 100, offset: 0 });
    return c.json({ ...toSessionResource(session), pending_approvals: pending.map(toApprovalResource) }, 200);
  },
);

agentSessionRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/agent-sessions/{id}",
    tags,
    summary: "End a session: cancel its turn, close it, stop its process (SIGTERM, then SIGKILL)",
    request: { params: sessionIdParam },
    responses: { 200: json(agentSessionResource, "Ended"), ...errors },
  }),
  async (c) => {
    const { session, agent } = await ownSession(c, c.req.valid("param").id);
    // A session whose process is already gone only needs its row closed.
    if (session.status !== "interrupted" && session.status !== "failed" && session.status !== "ended") {
      const closed = await relay(agent, "agentSession.close", { sessionId: session.id });
      await markEnded(c.var.db, session.id, closed.state);
    } else if (session.status === "interrupted") {
      await markEnded(c.var.db, session.id);
    }
    return c.json(toSessionResource(await findOwnSession(c.var.db, c.var.principal.userId, session.id)), 200);
  },
);

agentSessionRoutes.openapi(
  createRoute({
    method: "post",
    path: "/agent-sessions/{id}/messages",
    tags,
    summary: "Send a message: starts a turn (one at a time; 409 while one runs); its messages follow on the stream",
    request: { params: sessionIdParam, body: jsonBody(z.object({ message: agentPrompt }).strict()) },
    responses: { 202: json(z.object({ run_id: z.uuid() }), "Accepted"), ...errors },
  }),
  async (c) => {
    const { session, agent } = await ownSession(c, c.req.valid("param").id);
    const runId = await startTurn(c.var.db, askThrough(agent), session, c.req.valid("json").message);
    return c.json({ run_id: runId }, 202);
  },
);

agentSessionRoutes.openapi(
  createRoute({
    method: "post",
    path: "/agent-sessions/{id}/cancel",
    tags,
    summary: "Cancel the running turn; its pending approvals are answered cancelled",
    request: { params: sessionIdParam },
    responses: { 200: json(z.object({ cancelled: z.boolean() })), ...errors },
  }),
  async (c) => {
    const { session, agent } = await ownSession(c, c.req.valid("param").id);
    return c.json(await relay(agent, "agentSession.cancel", { sessionId: session.id }), 200);
  },
);

agentSessionRoutes.openapi(
  createRoute({
    method: "post",
    path: "/agent-sessions/{id}/approvals/{approval_id}",
    tags,
    summary: "Answer an approval: allow or reject (or an option kind). The first answer wins; later ones are 409",
    request: {
      params: sessionIdParam.extend({ approval_id: z.uuid() }),
      body: jsonBody(
        z
          .object({
            decision: z.enum(["allow", "reject"]).or(approvalOptionKind),
          })
          .strict(),
      ),
    },
    responses: {
      200: json(z.object({ approval_id: z.uuid(), decision: z.string(), delivered: z.boolean() })),
      ...errors,
    },
  }),
  async (c) => {
    const { approval_id: approvalId, id } = c.req.valid("param");
    const { session } = await ownSession(c, id);
    const { decision } = c.req.valid("json");
    const outcome = succeeded(await hostRelay(c.env, session.hostId).answerApproval(session.id, approvalId, decision));
    return c.json(outcome.result as { approval_id: string; decision: string; delivered: boolean }, 200);
  },
);

agentSessionRoutes.openapi(
  createRoute({
    method: "get",
    path: "/approvals",
    tags,
    summary: "Every approval waiting for you, across all your sessions and hosts, oldest first",
    request: { query: z.object(page) },
    responses: {
      200: json(z.object({ approvals: z.array(approvalResource), limit: z.number(), offset: z.number() })),
      ...errors,
    },
  }),
  async (c) => {
    const { limit, offset } = c.req.valid("query");
    const rows = await listApprovals(c.var.db, c.var.principal.userId, { limit, offset });
    return c.json({ approvals: rows.map(toApprovalResource), limit, offset }, 200);
  },
);

/** `WS /api/v1/ws/agent-sessions/{id}`: the session's messages, replayed after `?since=<seq>`, then live. */
export const agentSessionSocketRoutes = declareRoutes("signedIn");

agentSessionSocketRoutes.plain("GET", "/agent-sessions/:id", async (c) => {
  if (!wantsWebSocket(c)) {
    throw new KaiError(
      "BAD_REQUEST",
      "this is a WebSocket: connect with Upgrade: websocket (a browser WebSocket, wscat)",
    );
  }
  const params = parseOrThrow(sessionIdParam, { id: c.req.param("id") }, "param");
  const { since } = parseOrThrow(sinceQuery, { since: c.req.query("since") }, "query");
  const session = await findOwnSession(c.var.db, c.var.principal.userId, params.id);
  const credential = credentialOf(c.var.principal);
  return hostRelay(c.env, session.hostId).fetch(
    upgradeRequest(c.req.raw, {
      [AGENT_SESSION_HEADER]: session.id,
      [AGENT_SESSION_SINCE_HEADER]: String(since),
      [HOST_ID_HEADER]: session.hostId,
      [HOST_OWNER_HEADER]: session.userId,
      ...(credential ? { [VIEWER_CREDENTIAL_HEADER]: credential } : {}),
    }),
  );
});
agentSessionSocketRoutes.document(
  createRoute({
    method: "get",
    path: "/agent-sessions/{id}",
    tags,
    summary:
      "WebSocket: the session's messages (thinking, tool_use, tool_result, text, done, error) with seq; " +
      "send {type:'message',content}, {type:'cancel'} or {type:'approval',approval_id,decision}",
    request: { params: sessionIdParam, query: sinceQuery },
    responses: { 101: { description: "Switching protocols: the stream" }, ...problems(400, 401, 404, 422) },
  }),
);
