import { listCatalog, listHosts } from "../../api/lists";
import type { components } from "../../api/schema";

type CatalogItem = components["schemas"]["CatalogItem"];
export type Host = components["schemas"]["Host"];

/** A catalog workspace with the machine it lives on (undefined when that host was revoked). */
export interface WorkspaceWithHost {
  workspace: CatalogItem;
  host: Host | undefined;
}

/** The user's catalog workspaces, each with its host: two calls, joined here. */
export async function loadWorkspaces(): Promise<WorkspaceWithHost[]> {
  const [catalog, hosts] = await Promise.all([listCatalog(), listHosts()]);
  const byId = new Map(hosts.map((host) => [host.id, host]));
  return catalog.map((workspace) => ({ workspace, host: byId.get(workspace.hostId) }));
}

/** The path parameter every workspace-scoped call carries (`/api/v1/workspaces/{workspaceId}/...`). */
export const scope = (workspaceId: string) => ({ path: { workspaceId } });
