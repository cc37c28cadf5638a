import { useState } from "preact/hooks";
import { type ApiError, asApiError } from "../../api/api-error";
import { api, call } from "../../api/client";
import { useResource } from "../../state/use-resource";
import { ErrorView } from "../error-view";
import type { TabProps } from "./tab-props";
import { scope } from "./workspace-data";

type Action = "init" | "list" | "validate" | "show" | "archive";
type RunResult = { action: Action; change: string | null; exitCode: number | null; output: string; timedOut: boolean };

/** OpenSpec: specs, changes with their task progress, archived changes, and the CLI actions the API offers. */
export function OpenSpecTab({ workspaceId }: TabProps) {
  const params = scope(workspaceId);
  const state = useResource(() => call(api.GET("/api/v1/workspaces/{workspaceId}/openspec", { params })));
  const [busy, setBusy] = useState(false);
  const [ran, setRan] = useState<RunResult>();
  const [error, setError] = useState<ApiError>();
  const run = async (action: Action, change?: string) => {
    if (action === "archive" && !window.confirm(`Archive the change "${change}"? Its specs are merged.`)) return;
    setBusy(true);
    setError(undefined);
    try {
      const body = change ? { action, change } : { action };
      setRan(await call(api.POST("/api/v1/workspaces/{workspaceId}/openspec/actions", { params, body })));
      await state.reload();
    } catch (failure) {
      setError(asApiError(failure));
    } finally {
      setBusy(false);
    }
  };
  const data = state.data;
  const buttons = (actions: readonly Action[], change?: string) => (
    <div class="ws-apart">
      {actions.map((action) => (
        <button
          key={action}
          type="button"
          class={action === "archive" ? "danger" : undefined}
          disabled={busy || !data?.cliAvailable}
          onClick={() => run(action, change)}
        >
          {action}
        </button>
      ))}
    </div>
  );
  return (
    <section class="ws-openspec" aria-label="OpenSpec">
      <ErrorView error={state.error} />
      {state.loading && !data && <p class="muted">Loading…</p>}
      {data && !data.initialized && (
        <p class="muted">OpenSpec is not set up in this workspace (no openspec/ folder).</p>
      )}
      {data && !data.cliAvailable && (
        <p class="muted">The OpenSpec CLI is not installed on the machine: actions are unavailable.</p>
      )}
      {data && data.actions.length > 0 && buttons(data.actions)}
      {data?.initialized && (
        <>
          <h2>Changes</h2>
          {data.changes.length === 0 && <p class="muted">No active change.</p>}
          <ul class="list" aria-label="Changes">
            {data.changes.map((change) => (
              <li key={change.name} class="card" data-change={change.name}>
                <strong>{change.name}</strong>
                <span class="muted">
                  tasks {change.tasks.done} of {change.tasks.total} done
                </span>
                {buttons(change.actions, change.name)}
              </li>
            ))}
          </ul>
          <h2>Specs</h2>
          {data.specs.length === 0 && <p class="muted">No spec yet.</p>}
          <ul class="ws-plain" aria-label="Specs">
            {data.specs.map((spec) => (
              <li key={spec.path}>
                {spec.name} <code class="muted">{spec.path}</code>
              </li>
            ))}
          </ul>
          {data.archived.length > 0 && (
            <>
              <h2>Archived</h2>
              <ul class="ws-plain" aria-label="Archived changes">
                {data.archived.map((change) => (
                  <li key={change.name}>{change.name}</li>
                ))}
              </ul>
            </>
          )}
        </>
      )}
      <ErrorView error={error} />
      {ran && (
        <div class="ws-panel">
          <h2>
            openspec {ran.action}
            {ran.change ? ` ${ran.change}` : ""}{" "}
            <span class="muted">
              {ran.timedOut ? "stopped: took too long" : ran.exitCode === 0 ? "done" : `exit code ${ran.exitCode}`}
            </span>
          </h2>
          <pre class="ws-output">{ran.output || "(no output)"}</pre>
        </div>
      )}
    </section>
  );
}
