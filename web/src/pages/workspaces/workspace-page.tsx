import { useLocation, useRoute } from "preact-iso";
import { ErrorView } from "../../components/error-view";
import { FilesTab } from "../../components/workspaces/files-tab";
import { GitTab } from "../../components/workspaces/git-tab";
import { HostState } from "../../components/workspaces/host-state";
import { OpenSpecTab } from "../../components/workspaces/openspec-tab";
import { ScriptsTab } from "../../components/workspaces/scripts-tab";
import { SettingsTab } from "../../components/workspaces/settings-tab";
import { loadWorkspaces } from "../../components/workspaces/workspace-data";
import { useResource } from "../../state/use-resource";
import "./workspaces.css";

const TABS = [
  { id: "files", label: "Files", component: FilesTab },
  { id: "git", label: "Git", component: GitTab },
  { id: "scripts", label: "Scripts", component: ScriptsTab },
  { id: "settings", label: "Claude Code", component: SettingsTab },
  { id: "openspec", label: "OpenSpec", component: OpenSpecTab },
] as const;

/** One workspace: its machine's state and the Files, Git, Scripts, Claude Code and OpenSpec tabs. */
export function WorkspacePage() {
  const { params } = useRoute();
  const { query } = useLocation();
  const id = params.id ?? "";
  const tab = TABS.find((each) => each.id === params.tab) ?? TABS[0];
  // The catalog has no single-item read: the list is small, and it brings the host along.
  const list = useResource(loadWorkspaces);
  const found = list.data?.find((each) => each.workspace.id === id);
  if (list.error) return <ErrorView error={list.error} />;
  if (!list.data) return <p class="muted">Loading…</p>;
  if (!found) {
    return (
      <p class="muted">
        No such workspace in your catalog. <a href="/workspaces">See your workspaces</a>
      </p>
    );
  }
  const { workspace, host } = found;
  const Tab = tab.component;
  return (
    <>
      <p class="ws-back">
        <a href="/workspaces">Workspaces</a>
      </p>
      <h1>{workspace.name}</h1>
      <div class="row ws-head">
        <HostState host={host} />
        <code class="muted">{workspace.hostPath}</code>
      </div>
      <nav class="ws-tabs" aria-label="Workspace">
        {TABS.map((each) => (
          <a key={each.id} href={`/workspaces/${id}/${each.id}`} aria-current={each.id === tab.id ? "page" : undefined}>
            {each.label}
          </a>
        ))}
      </nav>
      {host?.online ? (
        <Tab key={id} workspaceId={id} query={query} />
      ) : (
        <div class="card" role="status">
          <strong>This workspace's machine is offline.</strong>
          <span class="muted">
            Files, Git, scripts and settings are read on the machine by its kai-agent: start it there (see{" "}
            <a href="/machines">Machines</a>), then{" "}
            <button type="button" onClick={list.reload}>
              check again
            </button>
          </span>
        </div>
      )}
    </>
  );
}
