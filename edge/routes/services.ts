import { createRoute } from "@hono/zod-openapi";
import { z } from "zod";
import { STOP_GRACE_DEFAULT_SECONDS } from "../../shared/commands";
import {
  containerStats,
  listServicesQuery,
  logEntry,
  logsQuery,
  service,
  serviceDetails,
  serviceRef,
  serviceStatus,
} from "../../shared/schemas/services";
import { envelopeErrors } from "../http/openapi";
import { envelopeOf, ok } from "../http/respond";
import { declareRoutes } from "../http/route-group";
import { relay } from "../relay/relay";
import { openStream } from "../relay/stream";

/** `/api/services`: every container of the selected host's engine (the AIKit Dashboard API). */
export const servicesRoutes = declareRoutes("host");

const relayErrors = envelopeErrors(400, 401, 403, 404, 409, 502, 503, 504);
/** Seconds a stop, restart or update waits for the container to exit before killing it. */
/** A follow's start: `lines` earlier lines (default none), or every line from `since` on (a resume). */
const followQuery = z.object({
  lines: z.coerce.number().int().min(0).max(10_000).optional(),
  since: z.iso
    .datetime({ offset: true })
    .optional()
    .describe("Send every line written at or after this time first (e.g. the last line's timestamp, to resume)"),
  frames: z
    .enum(["line", "batch"])
    .default("line")
    .describe(
      'line: one `{type:"chunk",seq,data}` frame per line; batch: `{type:"chunks",seq,data:[…]}` frames, ' +
        "each holding the consecutive lines `seq`, `seq + 1`, … the agent read together (at most 1,024), " +
        "for a client that reads many lines a second",
    ),
});

const graceQuery = z.object({ timeout: z.coerce.number().int().min(0).max(300).default(STOP_GRACE_DEFAULT_SECONDS) });

servicesRoutes.openapi(
  createRoute({
    method: "get",
    path: "/",
    tags: ["services"],
    summary: "All containers of the host, with health and live stats",
    request: { query: listServicesQuery },
    responses: {
      200: { description: "Services", content: { "application/json": { schema: envelopeOf(z.array(service)) } } },
      ...relayErrors,
    },
  }),
  async (c) => {
    const query = c.req.valid("query");
    const { services, total } = await relay(c.var.agent, "service.list", query);
    c.header("X-Total-Count", String(total));
    return ok(c, services, "Services retrieved successfully");
  },
);

servicesRoutes.openapi(
  createRoute({
    method: "get",
    path: "/{id}",
    tags: ["services"],
    summary: "One service by container id or name, with image, ports, volumes and env",
    request: { params: serviceRef },
    responses: {
      200: { description: "The service", content: { "application/json": { schema: envelopeOf(serviceDetails) } } },
      ...relayErrors,
    },
  }),
  async (c) =>
    ok(
      c,
      await relay(c.var.agent, "service.inspect", { id: c.req.valid("param").id }),
      "Service retrieved successfully",
    ),
);

const actionResult = (description: string) => ({
  200: {
    description,
    content: { "application/json": { schema: envelopeOf(z.object({ message: z.string(), status: serviceStatus })) } },
  },
  ...relayErrors,
});

/**
 * Start takes no grace period: it has nothing to wait for, so it neither documents nor reads
 * `timeout` (sent anyway, it is ignored like any other unknown query parameter).
 */
servicesRoutes.openapi(
  createRoute({
    method: "post",
    path: "/{id}/start",
    tags: ["services"],
    summary: "Start a service",
    request: { params: serviceRef },
    responses: actionResult("Service started successfully"),
  }),
  async (c) => {
    const message = "Service started successfully";
    const { status } = await relay(c.var.agent, "service.start", { id: c.req.valid("param").id });
    return ok(c, { message, status }, message);
  },
);

const GRACEFUL_ACTIONS = {
  stop: { op: "service.stop", message: "Service stopped successfully" },
  restart: { op: "service.restart", message: "Service restarted successfully" },
} as const;

for (const [action, { op, message }] of Object.entries(GRACEFUL_ACTIONS)) {
  servicesRoutes.openapi(
    createRoute({
      method: "post",
      path: `/{id}/${action}`,
      tags: ["services"],
      summary: `${action[0]?.toUpperCase()}${action.slice(1)} a service`,
      request: { params: serviceRef, query: graceQuery },
      responses: actionResult(message),
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const { timeout } = c.req.valid("query");
      const { status } = await relay(c.var.agent, op, { id, timeoutSeconds: timeout });
      return ok(c, { message, status }, message);
    },
  );
}

servicesRoutes.openapi(
  createRoute({
    method: "post",
    path: "/{id}/update",
    tags: ["services"],
    summary: "Pull the image's tag and recreate the container on it (rolled back when the new one does not start)",
    request: { params: serviceRef, query: graceQuery },
    responses: {
      200: {
        description: "Updated, or already current",
        content: {
          "application/json": {
            schema: envelopeOf(
              z.object({
                message: z.string(),
                version: z.string().nullable(),
                containerId: z.string(),
                image: z.string(),
                updated: z.boolean(),
              }),
            ),
          },
        },
      },
      ...relayErrors,
    },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const { timeout } = c.req.valid("query");
    const result = await relay(c.var.agent, "service.update", { id, timeoutSeconds: timeout });
    const message = result.updated ? "Service updated successfully" : "Service is already up to date";
    return ok(c, { message, ...result }, message);
  },
);

servicesRoutes.openapi(
  createRoute({
    method: "get",
    path: "/{id}/logs",
    tags: ["services"],
    summary: "Recent log lines, stdout and stderr separated, with timestamps and levels",
    request: { params: serviceRef, query: logsQuery },
    responses: {
      200: {
        description: "Log lines",
        content: { "application/json": { schema: envelopeOf(z.object({ logs: z.array(logEntry) })) } },
      },
      ...relayErrors,
    },
  }),
  async (c) => {
    const { lines, since } = c.req.valid("query");
    const result = await relay(c.var.agent, "service.logs", {
      id: c.req.valid("param").id,
      lines,
      ...(since ? { since } : {}),
    });
    return ok(c, result, "Logs retrieved successfully");
  },
);

servicesRoutes.openapi(
  createRoute({
    method: "get",
    path: "/{id}/logs/follow",
    tags: ["services"],
    summary:
      'Follow a service\'s log live over a WebSocket: `{type:"chunk",seq,data}` per line ' +
      "(or `chunks` frames with `frames=batch`), then `end` or `error`",
    request: { params: serviceRef, query: followQuery },
    responses: { 101: { description: "Switching to the WebSocket" }, ...relayErrors },
  }),
  async (c) => {
    const { lines, since, frames } = c.req.valid("query");
    // With `since` and no `lines`, the agent sends every line from that time on: how a viewer
    // resumes after a reconnect without a gap (it skips the lines it already has at that time).
    return openStream(
      c.var.agent,
      c,
      "service.logs.follow",
      {
        id: c.req.valid("param").id,
        ...(lines !== undefined || !since ? { lines: lines ?? 0 } : {}),
        ...(since ? { since } : {}),
      },
      { frames },
    );
  },
);

servicesRoutes.openapi(
  createRoute({
    method: "get",
    path: "/{id}/stats",
    tags: ["services"],
    summary: "CPU, memory, uptime and restarts of one service",
    request: { params: serviceRef },
    responses: {
      200: { description: "Stats", content: { "application/json": { schema: envelopeOf(containerStats) } } },
      ...relayErrors,
    },
  }),
  async (c) =>
    ok(c, await relay(c.var.agent, "service.stats", { id: c.req.valid("param").id }), "Stats retrieved successfully"),
);
