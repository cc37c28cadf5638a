import { useState } from "preact/hooks";
import { api, call } from "../../api/client";
import { useResource } from "../../state/use-resource";
import { ErrorView } from "../error-view";
import { ScriptRun } from "./script-run";
import type { TabProps } from "./tab-props";
import { scope } from "./workspace-data";

/** The workspace's scripts (package.json and .kai/scripts); running one streams its output here. */
export function ScriptsTab({ workspaceId }: TabProps) {
  const scripts = useResource(
    async () =>
      (await call(api.GET("/api/v1/workspaces/{workspaceId}/scripts", { params: scope(workspaceId) }))).scripts,
  );
  // Each run gets a fresh key, so running the same script again starts a new output pane.
  const [run, setRun] = useState<{ name: string; key: number }>();
  return (
    <section class="ws-scripts" aria-label="Scripts">
      <ErrorView error={scripts.error} />
      {scripts.loading && !scripts.data && <p class="muted">Loading…</p>}
      {scripts.data?.length === 0 && (
        <p class="muted">No scripts: add them to package.json, or as executables in .kai/scripts/.</p>
      )}
      <ul class="list" aria-label="Script list">
        {scripts.data?.map((script) => (
          <li key={script.name} class="card ws-script" data-script={script.name}>
            <div class="row">
              <strong>{script.name}</strong>
              <span class="muted">{script.source}</span>
            </div>
            <code class="muted">{script.command}</code>
            <button type="button" class="primary" onClick={() => setRun({ name: script.name, key: Date.now() })}>
              Run
            </button>
          </li>
        ))}
      </ul>
      {run && <ScriptRun key={run.key} workspaceId={workspaceId} name={run.name} />}
    </section>
  );
}
