import { createMiddleware } from "hono/factory";
import { z } from "zod";
import { KaiError } from "../../shared/errors";
import { findCatalogItem } from "../catalog/catalog";
import { database } from "../db/client";
import type { AppEnv } from "../env";
import { findOwnHost } from "../hosts/hosts";

export const WORKSPACE_HEADER = "X-Kai-Workspace";
const workspaceId = z.uuid();

/**
 * Resolves the workspace a Workspace Runtime route acts on: the `{id}` of
 * `/api/v1/workspaces/{id}/...`, or for the unscoped paths the `X-Kai-Workspace` header or
 * the `workspace_id` query parameter. A workspace is a catalog item; it also selects the
 * host. Another user's workspace is NOT_FOUND.
 */
export const resolveWorkspace = createMiddleware<AppEnv>(async (c, next) => {
  const wanted = c.req.param("workspaceId") ?? c.req.header(WORKSPACE_HEADER) ?? c.req.query("workspace_id");
  if (!wanted) {
    throw new KaiError("VALIDATION_ERROR", `name the workspace: /api/v1/workspaces/{id}/..., the ${WORKSPACE_HEADER} header or the workspace_id parameter`);
  }
  if (!workspaceId.safeParse(wanted).success) throw new KaiError("VALIDATION_ERROR", "a workspace id is a UUID (a catalog item's id)");
  const db = database(c.env.DB);
  const userId = c.get("principal").userId;
  const item = await findCatalogItem(db, userId, wanted).catch(() => {
    throw new KaiError("NOT_FOUND", "no such workspace");
  });
  c.set("workspace", { id: item.id, name: item.name, root: item.hostPath });
  c.set("host", await findOwnHost(db, userId, item.hostId));
  return next();
});
