import { useState } from "preact/hooks";
import { ApiError } from "../../api/api-error";
import { api, call } from "../../api/client";
import { useResource } from "../../state/use-resource";
import { ErrorView } from "../error-view";
import { useSubmit } from "../submit";
import { scope } from "./workspace-data";

type Section = "settings" | "hooks" | "mcp";
type Settings = Record<string, unknown>;

const PATHS = {
  settings: "/api/v1/workspaces/{workspaceId}/settings",
  hooks: "/api/v1/workspaces/{workspaceId}/settings/hooks",
  mcp: "/api/v1/workspaces/{workspaceId}/settings/mcp",
} as const;

const pretty = (value: Settings) => JSON.stringify(value, null, 2);

/**
 * One settings section as JSON to read and edit. The machine validates what is saved (unknown
 * keys kept); text that is not a JSON object is refused here before it is sent.
 */
export function ClaudeSettingsSection(props: { workspaceId: string; section: Section; title: string; file: string }) {
  const params = scope(props.workspaceId);
  const path = PATHS[props.section];
  const current = useResource(async () => (await call(api.GET(path, { params }))) as Settings);
  const [draft, setDraft] = useState<string>();
  const [saved, setSaved] = useState(false);
  const save = useSubmit(async () => {
    let value: unknown;
    try {
      value = JSON.parse(draft ?? "");
    } catch (error) {
      throw new ApiError("VALIDATION_ERROR", `not valid JSON: ${(error as Error).message}`, 0, null);
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw new ApiError("VALIDATION_ERROR", "the settings must be a JSON object ({ … })", 0, null);
    }
    await call(api.PUT(path, { params, body: value as Settings }));
    setDraft(undefined);
    setSaved(true);
    await current.reload();
  });
  const text = draft ?? (current.data ? pretty(current.data) : "");
  return (
    <section class="ws-panel" aria-label={props.title} data-section={props.section}>
      <h2>{props.title}</h2>
      <span class="muted">{props.file}</span>
      <ErrorView error={current.error} />
      {current.loading && !current.data && <p class="muted">Loading…</p>}
      {current.data && (
        <form onSubmit={save.run} class="ws-wide">
          <textarea
            aria-label={`${props.title} JSON`}
            spellcheck={false}
            rows={Math.min(20, text.split("\n").length + 1)}
            value={text}
            onInput={(event) => {
              setDraft(event.currentTarget.value);
              setSaved(false);
            }}
          />
          <div class="row">
            <button type="submit" class="primary" disabled={save.busy || draft === undefined}>
              Save
            </button>
            {draft !== undefined && (
              <button type="button" onClick={() => setDraft(undefined)}>
                Discard changes
              </button>
            )}
            {saved && <span role="status">Saved</span>}
          </div>
          <ErrorView error={save.error} />
        </form>
      )}
    </section>
  );
}
