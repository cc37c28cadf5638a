import { ErrorView } from "../../components/error-view";
import { HostState } from "../../components/workspaces/host-state";
import { loadWorkspaces } from "../../components/workspaces/workspace-data";
import { useResource } from "../../state/use-resource";
import "./workspaces.css";

/** The user's catalog workspaces with their machine; opening one scopes every workspace call to it. */
export function WorkspaceList() {
  const list = useResource(loadWorkspaces);
  return (
    <>
      <h1>Workspaces</h1>
      <ErrorView error={list.error} />
      {list.loading && !list.data && <p class="muted">Loading…</p>}
      <ul class="list" aria-label="Workspaces">
        {list.data?.map(({ workspace, host }) => (
          <li key={workspace.id} class="card" data-workspace={workspace.name}>
            <a class="ws-open" href={`/workspaces/${workspace.id}`}>
              <strong>{workspace.name}</strong>
            </a>
            <code class="muted">{workspace.hostPath}</code>
            <HostState host={host} />
          </li>
        ))}
      </ul>
      {list.data?.length === 0 && (
        <p class="muted">No workspace yet: add a project directory of one of your machines to the catalog.</p>
      )}
    </>
  );
}
