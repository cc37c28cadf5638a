import { createRoute } from "@hono/zod-openapi";
import { z } from "zod";
import { STOP_GRACE_DEFAULT_SECONDS } from "../../shared/commands";
import { containerStats, listServicesQuery, logEntry, logsQuery, service, serviceDetails, serviceRef, serviceStatus } from "../../shared/schemas/services";
import { envelopeErrors, routeGroup, signedIn } from "../http/openapi";
import { envelopeOf, ok } from "../http/respond";
import { authenticate } from "../middleware/authenticate";
import { selectHost } from "../middleware/select-host";
import { relay } from "../relay/relay";
import { openStream } from "../relay/stream";

/** `/api/services`: every container of the selected host's engine (the AIKit Dashboard API). */
export const servicesRoutes = routeGroup();
servicesRoutes.use("*", authenticate, selectHost);

const relayErrors = envelopeErrors(400, 401, 403, 404, 409, 502, 503, 504);
const graceQuery = z.object({ timeout: z.coerce.number().int().min(0).max(300).default(STOP_GRACE_DEFAULT_SECONDS) });

servicesRoutes.openapi(
  createRoute({
    method: "get",
    path: "/",
    tags: ["services"],
    summary: "All containers of the host, with health and live stats",
    security: signedIn,
    request: { query: listServicesQuery },
    responses: { 200: { description: "Services", content: { "application/json": { schema: envelopeOf(z.array(service)) } } }, ...relayErrors },
  }),
  async (c) => {
    const query = c.req.valid("query");
    const { services, total } = await relay(c, "service.list", query);
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
    security: signedIn,
    request: { params: serviceRef },
    responses: { 200: { description: "The service", content: { "application/json": { schema: envelopeOf(serviceDetails) } } }, ...relayErrors },
  }),
  async (c) => ok(c, await relay(c, "service.inspect", { id: c.req.valid("param").id }), "Service retrieved successfully"),
);

const ACTIONS = {
  start: { op: "service.start", message: "Service started successfully" },
  stop: { op: "service.stop", message: "Service stopped successfully" },
  restart: { op: "service.restart", message: "Service restarted successfully" },
} as const;

for (const [action, { op, message }] of Object.entries(ACTIONS)) {
  servicesRoutes.openapi(
    createRoute({
      method: "post",
      path: `/{id}/${action}`,
      tags: ["services"],
      summary: `${action[0]?.toUpperCase()}${action.slice(1)} a service`,
      security: signedIn,
      request: { params: serviceRef, query: graceQuery },
      responses: {
        200: { description: message, content: { "application/json": { schema: envelopeOf(z.object({ message: z.string(), status: serviceStatus })) } } },
        ...relayErrors,
      },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const { timeout } = c.req.valid("query");
      const { status } =
        op === "service.start" ? await relay(c, op, { id }) : await relay(c, op, { id, timeoutSeconds: timeout });
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
    security: signedIn,
    request: { params: serviceRef, query: graceQuery },
    responses: {
      200: {
        description: "Updated, or already current",
        content: {
          "application/json": {
            schema: envelopeOf(z.object({ message: z.string(), version: z.string().nullable(), containerId: z.string(), image: z.string(), updated: z.boolean() })),
          },
        },
      },
      ...relayErrors,
    },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const { timeout } = c.req.valid("query");
    const result = await relay(c, "service.update", { id, timeoutSeconds: timeout });
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
    security: signedIn,
    request: { params: serviceRef, query: logsQuery },
    responses: { 200: { description: "Log lines", content: { "application/json": { schema: envelopeOf(z.object({ logs: z.array(logEntry) })) } } }, ...relayErrors },
  }),
  async (c) => {
    const { lines, since } = c.req.valid("query");
    const result = await relay(c, "service.logs", { id: c.req.valid("param").id, lines, ...(since ? { since } : {}) });
    return ok(c, result, "Logs retrieved successfully");
  },
);

servicesRoutes.openapi(
  createRoute({
    method: "get",
    path: "/{id}/logs/follow",
    tags: ["services"],
    summary: "Follow a service's log live over a WebSocket: `{type:\"chunk\",seq,data}` per line, then `end` or `error`",
    security: signedIn,
    request: { params: serviceRef, query: z.object({ lines: z.coerce.number().int().min(0).max(10_000).default(0) }) },
    responses: { 101: { description: "Switching to the WebSocket" }, ...relayErrors },
  }),
  async (c) => openStream(c, "service.logs.follow", { id: c.req.valid("param").id, lines: c.req.valid("query").lines }),
);

servicesRoutes.openapi(
  createRoute({
    method: "get",
    path: "/{id}/stats",
    tags: ["services"],
    summary: "CPU, memory, uptime and restarts of one service",
    security: signedIn,
    request: { params: serviceRef },
    responses: { 200: { description: "Stats", content: { "application/json": { schema: envelopeOf(containerStats) } } }, ...relayErrors },
  }),
  async (c) => ok(c, await relay(c, "service.stats", { id: c.req.valid("param").id }), "Stats retrieved successfully"),
);
