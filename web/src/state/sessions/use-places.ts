import { listCatalog, listHosts } from "../../api/lists";
import type { components } from "../../api/schema";
import { useResource } from "../use-resource";

type Host = components["schemas"]["Host"];
type Workspace = components["schemas"]["CatalogItem"];

/** Where sessions run: the user's hosts (online state, profiles) and workspaces, looked up by id. */
export interface Places {
  hosts: Host[];
  workspaces: Workspace[];
  host: (id: string) => Host | undefined;
  workspace: (id: string) => Workspace | undefined;
}

/** Loads the hosts and workspaces the session pages name (two calls, at once). */
export function usePlaces() {
  return useResource<Places>(async () => {
    const [hostList, workspaces] = await Promise.all([listHosts(), listCatalog()]);
    return {
      hosts: hostList,
      workspaces,
      host: (id) => hostList.find((host) => host.id === id),
      workspace: (id) => workspaces.find((workspace) => workspace.id === id),
    };
  });
}
