import { routeGroup } from "../http/openapi";
import { authenticate } from "../middleware/authenticate";
import { resolveWorkspace } from "../workspaces/resolve";
import { registerFileRoutes } from "./workspace-files";
import { registerEventSocket, registerScriptRoutes, registerSettingsRoutes } from "./workspace-tools";
import { registerVersionControlRoutes } from "./workspace-vcs";

/**
 * The Workspace Runtime API. Every route lives under `/api/v1/workspaces/{id}/...`; the
 * documented unscoped paths (`/api/v1/files`, `/settings`, `/scripts`, `/ws`) are the same
 * handlers, taking the workspace from `X-Kai-Workspace` or `workspace_id`.
 */
export function scopedWorkspaceRoutes() {
  const group = routeGroup();
  group.use("*", authenticate, resolveWorkspace);
  registerFileRoutes(group);
  registerSettingsRoutes(group);
  registerScriptRoutes(group);
  registerEventSocket(group);
  registerVersionControlRoutes(group);
  return group;
}

/** Mounted at `/api/v1`: guards only its own paths, so the rest of `/api/v1` is untouched. */
export function unscopedWorkspaceRoutes() {
  const group = routeGroup();
  for (const path of ["/files", "/files/*", "/settings", "/settings/*", "/scripts", "/scripts/*", "/ws"]) {
    group.use(path, authenticate, resolveWorkspace);
  }
  registerFileRoutes(group);
  registerSettingsRoutes(group);
  registerScriptRoutes(group);
  registerEventSocket(group);
  return group;
}
