import { useState } from "preact/hooks";
import { type ApiError, asApiError } from "../../api/api-error";
import { useResource } from "../../state/use-resource";
import { ErrorView } from "../error-view";
import { when } from "../when";
import { downloadUrl, EDITABLE_BYTES, type OpenedFile, readTextOrBinary, writeText } from "./files-api";

type TextFile = Extract<OpenedFile, { kind: "text" }>;

/**
 * One file: a text editor with Save, or a download link for a binary or large file. The API
 * has no version check on write, so Save reads the file first and stops when it changed on the
 * machine since it was opened (someone or something else wrote it): the user then chooses.
 */
export function FileView({ workspaceId, path, back }: { workspaceId: string; path: string; back: string }) {
  const opened = useResource(() => readTextOrBinary(workspaceId, path));
  return (
    <section class="ws-file" aria-label="File">
      <p>
        <a href={back}>Back to the folder</a>
      </p>
      <h2 class="ws-path">{path}</h2>
      <ErrorView error={opened.error} />
      {opened.loading && !opened.data && <p class="muted">Loading…</p>}
      {opened.data?.kind === "binary" && (
        <p>
          This is a binary file ({opened.data.contentType || "unknown type"}): it cannot be edited here.{" "}
          <a href={downloadUrl(workspaceId, path)} download>
            Download it
          </a>
        </p>
      )}
      {opened.data?.kind === "text" && <TextEditor workspaceId={workspaceId} file={opened.data} />}
    </section>
  );
}

function TextEditor(props: { workspaceId: string; file: TextFile }) {
  const { workspaceId, file } = props;
  const [draft, setDraft] = useState(file.content);
  const [base, setBase] = useState(file);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError>();
  const [conflict, setConflict] = useState<TextFile>();
  const [saved, setSaved] = useState<string>();
  if (file.size > EDITABLE_BYTES) {
    return (
      <p>
        This file is large ({Math.round(file.size / 1024)} KiB): open it on the machine, or{" "}
        <a href={downloadUrl(workspaceId, file.path)} download>
          download it
        </a>
        .
      </p>
    );
  }
  const write = async (force: boolean) => {
    setBusy(true);
    setError(undefined);
    setSaved(undefined);
    try {
      if (!force) {
        const now = await readTextOrBinary(workspaceId, file.path);
        if (now.kind !== "text" || now.content !== base.content) {
          setConflict(now.kind === "text" ? now : { ...base, content: "(now a binary file)" });
          return;
        }
      }
      await writeText(workspaceId, file.path, draft);
      const after = await readTextOrBinary(workspaceId, file.path);
      if (after.kind === "text") setBase(after);
      setConflict(undefined);
      setSaved(`Saved ${new Date().toLocaleTimeString()}`);
    } catch (failure) {
      setError(asApiError(failure));
    } finally {
      setBusy(false);
    }
  };
  const takeTheirs = () => {
    if (!conflict) return;
    setBase(conflict);
    setDraft(conflict.content);
    setConflict(undefined);
  };
  const changed = draft !== base.content;
  return (
    <div class="ws-editor">
      <span class="muted">
        {base.size} bytes · changed {when(base.modified)}
      </span>
      <textarea
        aria-label={`Contents of ${file.path}`}
        spellcheck={false}
        value={draft}
        onInput={(event) => setDraft(event.currentTarget.value)}
      />
      {conflict && (
        <div class="error" role="alert" data-conflict>
          <strong>This file changed on the machine since you opened it.</strong>
          <span>Saving now would overwrite that change. Keep yours, or load theirs (your edits are lost).</span>
          <div class="ws-apart">
            <button type="button" onClick={takeTheirs}>
              Load their version
            </button>
            <button type="button" class="danger" onClick={() => write(true)} disabled={busy}>
              Overwrite with mine
            </button>
          </div>
        </div>
      )}
      <div class="row">
        <button type="button" class="primary" onClick={() => write(false)} disabled={busy || !changed}>
          {busy ? "Saving…" : "Save"}
        </button>
        {changed ? <span class="muted">unsaved changes</span> : saved && <span role="status">{saved}</span>}
      </div>
      <ErrorView error={error} />
    </div>
  );
}
