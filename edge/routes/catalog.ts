import { createRoute } from "@hono/zod-openapi";
import { z } from "zod";
import { KaiError } from "../../shared/errors";
import { catalogItem, createCatalogBody } from "../../shared/schemas/flexy";
import { findOwnHost } from "../hosts/hosts";
import { envelopeErrors, jsonBody } from "../http/openapi";
import { pageQuery } from "../http/paging";
import { envelopeOf, ok } from "../http/respond";
import { declareRoutes } from "../http/route-group";
import { HOST_HEADER } from "../middleware/select-host";
import { relay } from "../relay/relay";
import { addWorkspace, listWorkspaces, removeWorkspace, type WorkspaceRow } from "../workspaces/workspaces";

/** A workspace in the Kai API's words: a catalog item. */
function toCatalogItem(row: WorkspaceRow) {
  return {
    id: row.id,
    name: row.name,
    hostPath: row.hostPath,
    hostId: row.hostId,
    containerId: row.containerId,
    createdAt: row.createdAt.toISOString(),
  };
}

/** `/api/catalog/flexy`: the user's saved project directories, per host. */
export const catalogRoutes = declareRoutes("signedIn");
/** Adding an item needs its host (and asks that host's agent); mounted at the same path. */
export const catalogHostRoutes = declareRoutes("host");

catalogRoutes.openapi(
  createRoute({
    method: "get",
    path: "/",
    tags: ["catalog"],
    summary: "List catalog items (of one host when X-Kai-Host or host is given)",
    description: "Newest first, a page at a time (`limit`, `offset`).",
    request: { query: pageQuery.extend({ host: z.string().optional() }) },
    responses: {
      200: {
        description: "Items",
        content: { "application/json": { schema: envelopeOf(z.object({ items: z.array(catalogItem) })) } },
      },
      ...envelopeErrors(401, 404),
    },
  }),
  async (c) => {
    const db = c.var.db;
    const userId = c.var.principal.userId;
    const { host, ...page } = c.req.valid("query");
    const wanted = c.req.header(HOST_HEADER) ?? host;
    const hostId = wanted ? (await findOwnHost(db, userId, wanted)).id : undefined;
    return ok(
      c,
      { items: (await listWorkspaces(db, userId, hostId, page)).map(toCatalogItem) },
      "Catalog items retrieved successfully",
    );
  },
);

catalogHostRoutes.openapi(
  createRoute({
    method: "post",
    path: "/",
    tags: ["catalog"],
    summary: "Add a directory of the selected host to the catalog (checked by its agent when online)",
    request: { body: jsonBody(createCatalogBody) },
    responses: {
      201: { description: "Added", content: { "application/json": { schema: envelopeOf(catalogItem) } } },
      ...envelopeErrors(400, 401, 403, 404, 502, 504),
    },
  }),
  async (c) => {
    const body = c.req.valid("json");
    const host = c.var.host;
    let hostPath = body.hostPath;
    try {
      // The agent resolves the real path and enforces its allowed roots.
      hostPath = (await relay(c.var.agent, "path.check", { path: body.hostPath })).path;
    } catch (error) {
      // An offline host cannot check now; its agent checks again when a container is made.
      if (!(error instanceof KaiError && error.code === "AGENT_OFFLINE")) throw error;
    }
    const row = await addWorkspace(c.var.db, {
      userId: c.var.principal.userId,
      hostId: host.id,
      name: body.name,
      hostPath,
    });
    return ok(c, toCatalogItem(row), "Catalog item added successfully", 201);
  },
);

catalogRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/{id}",
    tags: ["catalog"],
    summary: "Remove a catalog item (its container, if any, is left alone)",
    request: { params: z.object({ id: z.uuid() }) },
    responses: {
      200: {
        description: "Removed",
        content: { "application/json": { schema: envelopeOf(z.object({ id: z.string() })) } },
      },
      ...envelopeErrors(400, 401, 404),
    },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    await removeWorkspace(c.var.db, c.var.principal.userId, id);
    return ok(c, { id }, "Catalog item removed successfully");
  },
);
