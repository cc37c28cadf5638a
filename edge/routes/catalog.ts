import { createRoute } from "@hono/zod-openapi";
import { z } from "zod";
import { KaiError } from "../../shared/errors";
import { catalogItem, createCatalogBody } from "../../shared/schemas/flexy";
import { addCatalogItem, listCatalog, removeCatalogItem, toCatalogItem } from "../catalog/catalog";
import { database } from "../db/client";
import { findOwnHost } from "../hosts/hosts";
import { envelopeErrors, jsonBody, routeGroup, signedIn } from "../http/openapi";
import { envelopeOf, ok } from "../http/respond";
import { authenticate } from "../middleware/authenticate";
import { HOST_HEADER, selectHost } from "../middleware/select-host";
import { relay } from "../relay/relay";

/** `/api/catalog/flexy`: the user's saved project directories, per host. */
export const catalogRoutes = routeGroup();
catalogRoutes.use("*", authenticate);

catalogRoutes.openapi(
  createRoute({
    method: "get",
    path: "/",
    tags: ["catalog"],
    summary: "List catalog items (of one host when X-Kai-Host or host is given)",
    security: signedIn,
    request: { query: z.object({ host: z.string().optional() }) },
    responses: {
      200: { description: "Items", content: { "application/json": { schema: envelopeOf(z.object({ items: z.array(catalogItem) })) } } },
      ...envelopeErrors(401, 404),
    },
  }),
  async (c) => {
    const db = database(c.env.DB);
    const userId = c.get("principal").userId;
    const wanted = c.req.header(HOST_HEADER) ?? c.req.valid("query").host;
    const hostId = wanted ? (await findOwnHost(db, userId, wanted)).id : undefined;
    return ok(c, { items: (await listCatalog(db, userId, hostId)).map(toCatalogItem) }, "Catalog items retrieved successfully");
  },
);

catalogRoutes.openapi(
  createRoute({
    method: "post",
    path: "/",
    tags: ["catalog"],
    summary: "Add a directory of the selected host to the catalog (checked by its agent when online)",
    security: signedIn,
    middleware: [selectHost] as const,
    request: { body: jsonBody(createCatalogBody) },
    responses: {
      201: { description: "Added", content: { "application/json": { schema: envelopeOf(catalogItem) } } },
      ...envelopeErrors(400, 401, 403, 404, 502, 504),
    },
  }),
  async (c) => {
    const body = c.req.valid("json");
    const host = c.get("host");
    let hostPath = body.hostPath;
    try {
      // The agent resolves the real path and enforces its allowed roots.
      hostPath = (await relay(c, "path.check", { path: body.hostPath })).path;
    } catch (error) {
      // An offline host cannot check now; its agent checks again when a container is made.
      if (!(error instanceof KaiError && error.code === "AGENT_OFFLINE")) throw error;
    }
    const row = await addCatalogItem(database(c.env.DB), { userId: c.get("principal").userId, hostId: host.id, name: body.name, hostPath });
    return ok(c, toCatalogItem(row), "Catalog item added successfully", 201);
  },
);

catalogRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/{id}",
    tags: ["catalog"],
    summary: "Remove a catalog item (its container, if any, is left alone)",
    security: signedIn,
    request: { params: z.object({ id: z.uuid() }) },
    responses: {
      200: { description: "Removed", content: { "application/json": { schema: envelopeOf(z.object({ id: z.string() })) } } },
      ...envelopeErrors(400, 401, 404),
    },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    await removeCatalogItem(database(c.env.DB), c.get("principal").userId, id);
    return ok(c, { id }, "Catalog item removed successfully");
  },
);
