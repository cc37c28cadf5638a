import { createRoute } from "@hono/zod-openapi";
import { z } from "zod";
import { STOP_GRACE_DEFAULT_SECONDS } from "../../shared/commands";
import { KaiError } from "../../shared/errors";
import { containerRef } from "../../shared/schemas/command-params";
import { createFlexyBody, flexyContainer, flexyContainerDetails, listFlexyQuery } from "../../shared/schemas/flexy";
import { envelopeErrors, jsonBody } from "../http/openapi";
import { envelopeOf, ok } from "../http/respond";
import { declareRoutes } from "../http/route-group";
import { idempotent } from "../middleware/idempotency";
import { relay } from "../relay/relay";
import { findOwnWorkspace, forgetContainer, recordContainer } from "../workspaces/workspaces";

/** `/api/flexy`: Kai-managed containers on the selected host. */
export const flexyRoutes = declareRoutes("host");

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
    request: { query: listFlexyQuery },
    responses: {
      200: {
        description: "Containers",
        content: {
          "application/json": {
            schema: envelopeOf(
              z.object({
                containers: z.array(flexyContainer),
                total: z.number(),
                limit: z.number(),
                offset: z.number(),
              }),
            ),
          },
        },
      },
      ...relayErrors,
    },
  }),
  async (c) => {
    const query = c.req.valid("query");
    const { containers, total } = await relay(c.var.agent, "container.list", query);
    return ok(c, { containers, total, limit: query.limit, offset: query.offset }, "Containers retrieved successfully");
  },
);

flexyRoutes.openapi(
  createRoute({
    method: "post",
    path: "/",
    tags: ["containers"],
    summary: "Create a Flexy container (honours Idempotency-Key)",
    middleware: [idempotent] as const,
    request: {
      body: jsonBody(createFlexyBody),
      headers: z.object({ "idempotency-key": z.string().min(1).max(255).optional() }),
    },
    responses: {
      201: { description: "Created", content: { "application/json": { schema: envelopeOf(flexyContainer) } } },
      ...relayErrors,
    },
  }),
  async (c) => {
    const body = c.req.valid("json");
    const db = c.var.db;
    const host = c.var.host;
    const workspace = body.catalogItemId
      ? await findOwnWorkspace(db, c.var.principal.userId, body.catalogItemId, host.id)
      : undefined;
    const hostPath = body.hostPath ?? workspace?.hostPath;
    if (!hostPath) {
      throw new KaiError(
        "VALIDATION_ERROR",
        "invalid request: hostPath is required (or a catalogItemId to take it from)",
        {
          details: { fields: { hostPath: ["required"] } },
        },
      );
    }
    const container = await relay(c.var.agent, "container.create", {
      name: body.name,
      image: body.image,
      hostPath,
      containerPath: body.containerPath,
      env: body.env,
      ...(body.ports ? { ports: body.ports } : {}),
      ...(workspace ? { labels: { "kai.catalog": workspace.id } } : {}),
    });
    if (workspace) await recordContainer(db, workspace.id, container.id);
    return ok(c, container, "Container created successfully", 201);
  },
);

flexyRoutes.openapi(
  createRoute({
    method: "get",
    path: "/{id}",
    tags: ["containers"],
    summary: "Container details: ports and volumes",
    request: { params: idParam },
    responses: {
      200: { description: "Details", content: { "application/json": { schema: envelopeOf(flexyContainerDetails) } } },
      ...relayErrors,
    },
  }),
  async (c) =>
    ok(
      c,
      await relay(c.var.agent, "container.inspect", { id: c.req.valid("param").id }),
      "Container details retrieved successfully",
    ),
);

flexyRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/{id}",
    tags: ["containers"],
    summary: "Remove a container (stopping it first)",
    request: { params: idParam },
    responses: {
      200: {
        description: "Removed",
        content: { "application/json": { schema: envelopeOf(z.object({ id: z.string() })) } },
      },
      ...relayErrors,
    },
  }),
  async (c) => {
    const { id } = await relay(c.var.agent, "container.remove", { id: c.req.valid("param").id });
    await forgetContainer(c.var.db, c.var.host.id, id);
    return ok(c, { id }, "Container deleted successfully");
  },
);

const actionResult = (description: string) => ({
  200: {
    description,
    content: { "application/json": { schema: envelopeOf(z.object({ id: z.string(), status: z.string() })) } },
  },
  ...relayErrors,
});

/**
 * Start takes no grace period: it has nothing to wait for, so it neither documents nor reads
 * `timeout` (sent anyway, it is ignored like any other unknown query parameter).
 */
flexyRoutes.openapi(
  createRoute({
    method: "post",
    path: "/{id}/start",
    tags: ["containers"],
    summary: "Start a container",
    request: { params: idParam },
    responses: actionResult("Container start request submitted"),
  }),
  async (c) => {
    const result = await relay(c.var.agent, "container.start", { id: c.req.valid("param").id });
    return ok(c, { id: result.id, status: "starting" }, "Container start request submitted");
  },
);

/** Stop and restart answer the Kai API's words for a submitted request. */
const GRACEFUL_ACTIONS = {
  stop: { op: "container.stop", status: "stopping", message: "Container stop request submitted" },
  restart: { op: "container.restart", status: "restarting", message: "Container restart request submitted" },
} as const;

for (const [action, { op, status, message }] of Object.entries(GRACEFUL_ACTIONS)) {
  flexyRoutes.openapi(
    createRoute({
      method: "post",
      path: `/{id}/${action}`,
      tags: ["containers"],
      summary: `${action[0]?.toUpperCase()}${action.slice(1)} a container`,
      request: { params: idParam, query: graceQuery },
      responses: actionResult(message),
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const { timeout } = c.req.valid("query");
      const result = await relay(c.var.agent, op, { id, timeoutSeconds: timeout });
      return ok(c, { id: result.id, status }, message);
    },
  );
}
