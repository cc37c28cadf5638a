import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { z } from "zod";
import { KaiError } from "../../shared/errors";
import type { HostEnv, WorkspaceEnv } from "../env";
import { findOwnHost } from "../hosts/hosts";
import { bindHost } from "../middleware/select-host";
import { findOwnWorkspace } from "./workspaces";

export const WORKSPACE_HEADER = "X-Kai-Workspace";
export const WORKSPACE_QUERY = "workspace_id";
/** The path parameter of `/api/v1/workspaces/{workspaceId}/...`. */
export const WORKSPACE_PARAM = "workspaceId";
const workspaceId = z.uuid();

/**
 * Resolves the workspace a Workspace Runtime route acts on: the `{workspaceId}` of
 * `/api/v1/workspaces/{workspaceId}/...`, or for the unscoped paths the `X-Kai-Workspace`
 * header or the `workspace_id` query parameter. A workspace is a catalog item; it also
 * selects the host. Another user's workspace is NOT_FOUND.
 */
export const resolveWorkspace = createMiddleware<WorkspaceEnv>(async (c, next) => {
  const wanted = c.req.param(WORKSPACE_PARAM) ?? c.req.header(WORKSPACE_HEADER) ?? c.req.query(WORKSPACE_QUERY);
  if (!wanted) {
    throw new KaiError(
      "VALIDATION_ERROR",
      `name the workspace: /api/v1/workspaces/{id}/..., the ${WORKSPACE_HEADER} header or the workspace_id parameter`,
    );
  }
  if (!workspaceId.safeParse(wanted).success)
    throw new KaiError("VALIDATION_ERROR", "a workspace id is a UUID (a catalog item's id)");
  const db = c.var.db;
  const userId = c.var.principal.userId;
  const workspace = await findOwnWorkspace(db, userId, wanted).catch(() => {
    throw new KaiError("NOT_FOUND", "no such workspace");
  });
  c.set("workspace", { id: workspace.id, name: workspace.name, root: workspace.hostPath });
  bindHost(c as unknown as Context<HostEnv>, await findOwnHost(db, userId, workspace.hostId));
  return next();
});
