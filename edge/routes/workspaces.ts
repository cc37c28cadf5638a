import { declareRoutes } from "../http/route-group";
import { registerFileRoutes } from "./workspace-files";
import { registerEventSocket, registerScriptRoutes, registerSettingsRoutes } from "./workspace-tools";
import { registerVersionControlRoutes } from "./workspace-vcs";

/**
 * The Workspace Runtime API. Every route lives under `/api/v1/workspaces/{workspaceId}/...`;
 * the documented unscoped paths (`/api/v1/files`, `/settings`, `/scripts`, `/ws`) are the
 * same handlers, taking the workspace from `X-Kai-Workspace` or `workspace_id`.
 */
export function scopedWorkspaceRoutes() {
  const group = declareRoutes("workspaceInPath");
  registerFileRoutes(group);
  registerSettingsRoutes(group);
  registerScriptRoutes(group);
  registerEventSocket(group);
  registerVersionControlRoutes(group);
  return group;
}

/** Mounted at `/api/v1`: its guards run per route, so the rest of `/api/v1` is untouched. */
export function unscopedWorkspaceRoutes() {
  const group = declareRoutes("workspace");
  registerFileRoutes(group);
  registerSettingsRoutes(group);
  registerScriptRoutes(group);
  registerEventSocket(group);
  return group;
}
