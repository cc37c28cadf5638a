import { createRoute } from "@hono/zod-openapi";
import { z } from "zod";
import { REPLIES } from "../../shared/command-replies";
import { KaiError } from "../../shared/errors";
import { CLOSE_CODES } from "../../shared/protocol";
import { createHostBody, enrolledHost, host, hostIdParam, renameHostBody } from "../../shared/schemas/hosts";
import { hostRelay } from "../host-relay/stub";
import { expectDialer, forgetDialer } from "../hosts/connect-pacer";
import { deleteHost, enrollHost, findOwnHost, listHosts, renameHost, toHost } from "../hosts/hosts";
import { envelopeErrors, jsonBody } from "../http/openapi";
import { pageQuery } from "../http/paging";
import { envelopeOf, ok } from "../http/respond";
import { declareRoutes } from "../http/route-group";
import { installCommand } from "../install/install-script";
import { publicOrigin } from "../install/public-origin";
import { relay } from "../relay/relay";

/** `/api/hosts`: enroll machines, see which are online, rename and revoke them. */
export const hostsRoutes = declareRoutes("signedIn");
/** The `/api/hosts/{id}` routes that talk to that host's agent; mounted at the same path. */
export const hostAgentRoutes = declareRoutes("hostInPath");

/**
 * How long `GET /api/hosts/{id}` waits for the agent's Docker report (or AGENT_TIMEOUT_MS,
 * when that is shorter): a status read answers from the stored row, with `docker: null`,
 * rather than hang on a frozen agent for the full command timeout.
 */
const STATUS_READ_TIMEOUT_MS = 2_000;

const hostResponse = (description: string) => ({
  description,
  content: { "application/json": { schema: envelopeOf(host) } },
});

hostsRoutes.openapi(
  createRoute({
    method: "post",
    path: "/",
    tags: ["hosts"],
    summary:
      "Enroll a machine: returns its agent token (shown once) and the command to run there, which asks for the token",
    request: { body: jsonBody(createHostBody) },
    responses: {
      201: { description: "Enrolled", content: { "application/json": { schema: envelopeOf(enrolledHost) } } },
      ...envelopeErrors(400, 401, 409),
    },
  }),
  async (c) => {
    // Before anything is stored: a Host header install.sh cannot embed is a 400 that leaves no host behind.
    const server = publicOrigin(c.var.config, c.req.url);
    const { row, token } = await enrollHost(c.var.db, c.var.principal.userId, c.req.valid("json").name);
    c.executionCtx.waitUntil(expectDialer(c.env, row.tokenHash, row.userId));
    // The token is in this answer: no cache may keep it (RFC 6749 §5.1).
    c.header("Cache-Control", "no-store");
    // The token is never part of the command: a command line shows in `ps` and shell history.
    // `kai-agent login --with-token` reads it from stdin (without echo) into a 0600 file; plain
    // `kai-agent` then runs. (Plain `kai-agent login` is the device flow, which needs no token.)
    return ok(
      c,
      {
        host: toHost(row),
        token,
        command: `kai-agent login --server ${server} --with-token && kai-agent`,
        install: installCommand(server, "--with-token"),
      },
      "Host enrolled; run the command shown on that machine and paste the token when asked",
      201,
    );
  },
);

hostsRoutes.openapi(
  createRoute({
    method: "get",
    path: "/",
    tags: ["hosts"],
    summary: "Your hosts, with online state and what their agents last reported",
    description: "Oldest first, a page at a time (`limit`, `offset`).",
    request: { query: pageQuery },
    responses: {
      200: {
        description: "Hosts",
        content: { "application/json": { schema: envelopeOf(z.object({ hosts: z.array(host) })) } },
      },
      ...envelopeErrors(401),
    },
  }),
  async (c) =>
    ok(
      c,
      { hosts: (await listHosts(c.var.db, c.var.principal.userId, c.req.valid("query"))).map(toHost) },
      "Hosts retrieved successfully",
    ),
);

hostAgentRoutes.openapi(
  createRoute({
    method: "get",
    path: "/{id}",
    tags: ["hosts"],
    summary: "One host, with its Docker engine's live state when the agent answers within 2 s",
    request: { params: hostIdParam },
    responses: {
      200: {
        description: "The host",
        content: {
          "application/json": {
            schema: envelopeOf(
              host.extend({
                docker: REPLIES["docker.info"].result
                  .nullable()
                  .describe("null when the agent is offline or did not answer within 2 s"),
              }),
            ),
          },
        },
      },
      ...envelopeErrors(400, 401, 404),
    },
  }),
  async (c) => {
    const row = c.var.host;
    let docker = null;
    try {
      docker = await relay(
        c.var.agent,
        "docker.info",
        {},
        { timeoutMs: Math.min(STATUS_READ_TIMEOUT_MS, c.var.config.AGENT_TIMEOUT_MS) },
      );
    } catch (error) {
      if (!(error instanceof KaiError && (error.code === "AGENT_OFFLINE" || error.code === "AGENT_TIMEOUT")))
        throw error;
    }
    return ok(c, { ...toHost(row), docker }, "Host retrieved successfully");
  },
);

hostAgentRoutes.openapi(
  createRoute({
    method: "get",
    path: "/{id}/ping",
    tags: ["hosts"],
    summary: "Round trip to the host's agent through the relay",
    request: { params: hostIdParam },
    responses: {
      200: {
        description: "The agent answered",
        content: {
          "application/json": { schema: envelopeOf(REPLIES.ping.result.extend({ roundTripMs: z.number() })) },
        },
      },
      ...envelopeErrors(400, 401, 404, 503, 504),
    },
  }),
  async (c) => {
    const started = Date.now();
    const pong = await relay(c.var.agent, "ping", {});
    return ok(c, { ...pong, roundTripMs: Date.now() - started }, "The host agent answered");
  },
);

hostsRoutes.openapi(
  createRoute({
    method: "get",
    path: "/{id}/session",
    tags: ["hosts"],
    summary: "Whether the host's agent is connected right now, from its Durable Object (the agent is not asked)",
    request: { params: hostIdParam },
    responses: {
      200: {
        description: "Connection state",
        content: {
          "application/json": {
            schema: envelopeOf(z.object({ connected: z.boolean(), agentVersion: z.string().nullable() })),
          },
        },
      },
      ...envelopeErrors(400, 401, 404),
    },
  }),
  async (c) => {
    const row = await findOwnHost(c.var.db, c.var.principal.userId, c.req.valid("param").id);
    const state = await hostRelay(c.env, row.id).status();
    return ok(c, { connected: state.connected, agentVersion: state.hello?.agentVersion ?? null }, "Host session state");
  },
);

hostsRoutes.openapi(
  createRoute({
    method: "patch",
    path: "/{id}",
    tags: ["hosts"],
    summary: "Rename a host",
    request: { params: hostIdParam, body: jsonBody(renameHostBody) },
    responses: { 200: hostResponse("Renamed"), ...envelopeErrors(400, 401, 404, 409) },
  }),
  async (c) => {
    const row = await renameHost(c.var.db, c.var.principal.userId, c.req.valid("param").id, c.req.valid("json").name);
    return ok(c, toHost(row), "Host renamed");
  },
);

hostsRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/{id}",
    tags: ["hosts"],
    summary: "Delete a host: revokes its agent token and closes its connection at once",
    request: { params: hostIdParam },
    responses: {
      200: {
        description: "Deleted",
        content: { "application/json": { schema: envelopeOf(z.object({ id: z.string() })) } },
      },
      ...envelopeErrors(400, 401, 404),
    },
  }),
  async (c) => {
    const row = await deleteHost(c.var.db, c.var.principal.userId, c.req.valid("param").id);
    await hostRelay(c.env, row.id).disconnect(CLOSE_CODES.TOKEN_REVOKED, "this host was deleted and its token revoked");
    c.executionCtx.waitUntil(forgetDialer(c.env, row.tokenHash));
    return ok(c, { id: row.id }, "Host deleted and its agent disconnected");
  },
);
