import { createRoute } from "@hono/zod-openapi";
import { z } from "zod";
import { STOP_GRACE_DEFAULT_SECONDS } from "../../shared/commands";
import { KaiError } from "../../shared/errors";
import { containerRef, createFlexyBody, flexyContainer, flexyContainerDetails, listFlexyQuery } from "../../shared/schemas/flexy";
import { findCatalogItem, forgetContainer, recordContainer } from "../catalog/catalog";
import { database } from "../db/client";
import { envelopeErrors, jsonBody, routeGroup, signedIn } from "../http/openapi";
import { envelopeOf, ok } from "../http/respond";
import { authenticate } from "../middleware/authenticate";
import { idempotent } from "../middleware/idempotency";
import { selectHost } from "../middleware/select-host";
import { relay } from "../relay/relay";

/** `/api/flexy`: Kai-managed containers on the selected host. */
export const flexyRoutes = routeGroup();
flexyRoutes.use("*", authenticate, selectHost);

const idParam = z.object({ id: containerRef });
/** Seconds a stop or restart waits for the container to exit before killing it. */
const graceQuery = z.object({ timeout: z.coerce.number().int().min(0).max(300).default(STOP_GRACE_DEFAULT_SECONDS) });
const relayErrors = envelopeErrors(400, 401, 403, 404, 409, 502, 503, 504);

flexyRoutes.openapi(
  createRoute({
    method: "get",
    path: "/",
    tags: ["containers"],
    summary: "List Kai-managed containers",
    security: signedIn,
    request: { query: listFlexyQuery },
    responses: {
      200: {
        description: "Containers",
        content: {
          "application/json": {
            schema: envelopeOf(z.object({ containers: z.array(flexyContainer), total: z.number(), limit: z.number(), offset: z.number() })),
          },
        },
      },
      ...relayErrors,
    },
  }),
  async (c) => {
    const query = c.req.valid("query");
    const { containers, total } = await relay(c, "container.list", query);
    return ok(c, { containers, total, limit: query.limit, offset: query.offset }, "Containers retrieved successfully");
  },
);

flexyRoutes.openapi(
  createRoute({
    method: "post",
    path: "/",
    tags: ["containers"],
    summary: "Create a Flexy container (honours Idempotency-Key)",
    security: signedIn,
    middleware: [idempotent] as const,
    request: { body: jsonBody(createFlexyBody), headers: z.object({ "idempotency-key": z.string().min(1).max(255).optional() }) },
    responses: { 201: { description: "Created", content: { "application/json": { schema: envelopeOf(flexyContainer) } } }, ...relayErrors },
  }),
  async (c) => {
    const body = c.req.valid("json");
    const db = database(c.env.DB);
    const host = c.get("host");
    const item = body.catalogItemId ? await findCatalogItem(db, c.get("principal").userId, body.catalogItemId, host.id) : undefined;
    const hostPath = body.hostPath ?? item?.hostPath;
    if (!hostPath) {
      throw new KaiError("VALIDATION_ERROR", "invalid request: hostPath is required (or a catalogItemId to take it from)", {
        details: { fields: { hostPath: ["required"] } },
      });
    }
    const container = await relay(c, "container.create", {
      name: body.name,
      image: body.image,
      hostPath,
      containerPath: body.containerPath,
      env: body.env,
      ...(body.ports ? { ports: body.ports } : {}),
      ...(item ? { labels: { "kai.catalog": item.id } } : {}),
    });
    if (item) await recordContainer(db, item.id, container.id);
    return ok(c, container, "Container created successfully", 201);
  },
);

flexyRoutes.openapi(
  createRoute({
    method: "get",
    path: "/{id}",
    tags: ["containers"],
    summary: "Container details: ports and volumes",
    security: signedIn,
    request: { params: idParam },
    responses: { 200: { description: "Details", content: { "application/json": { schema: envelopeOf(flexyContainerDetails) } } }, ...relayErrors },
  }),
  async (c) => ok(c, await relay(c, "container.inspect", { id: c.req.valid("param").id }), "Container details retrieved successfully"),
);

flexyRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/{id}",
    tags: ["containers"],
    summary: "Remove a container (stopping it first)",
    security: signedIn,
    request: { params: idParam },
    responses: { 200: { description: "Removed", content: { "application/json": { schema: envelopeOf(z.object({ id: z.string() })) } } }, ...relayErrors },
  }),
  async (c) => {
    const { id } = await relay(c, "container.remove", { id: c.req.valid("param").id });
    await forgetContainer(database(c.env.DB), c.get("host").id, id);
    return ok(c, { id }, "Container deleted successfully");
  },
);

/** The three lifecycle actions answer the Kai API's words for a submitted request. */
const ACTIONS = {
  start: { op: "container.start", status: "starting", message: "Container start request submitted" },
  stop: { op: "container.stop", status: "stopping", message: "Container stop request submitted" },
  restart: { op: "container.restart", status: "restarting", message: "Container restart request submitted" },
} as const;

for (const [action, { op, status, message }] of Object.entries(ACTIONS)) {
  flexyRoutes.openapi(
    createRoute({
      method: "post",
      path: `/{id}/${action}`,
      tags: ["containers"],
      summary: `${action[0]?.toUpperCase()}${action.slice(1)} a container`,
      security: signedIn,
      request: { params: idParam, query: graceQuery },
      responses: {
        200: { description: message, content: { "application/json": { schema: envelopeOf(z.object({ id: z.string(), status: z.string() })) } } },
        ...relayErrors,
      },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const { timeout } = c.req.valid("query");
      const result =
        op === "container.start"
          ? await relay(c, op, { id })
          : await relay(c, op, { id, timeoutSeconds: timeout });
      return ok(c, { id: result.id, status }, message);
    },
  );
}
