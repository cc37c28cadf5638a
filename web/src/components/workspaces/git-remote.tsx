import { useState } from "preact/hooks";
import { type ApiError, asApiError } from "../../api/api-error";
import { ErrorView } from "../error-view";
import type { GitApi } from "./git-api";

/** Push and pull with the branch's upstream; git's own output is shown, its refusals via ErrorView. */
export function GitRemote({ git, onChanged }: { git: GitApi; onChanged: () => void }) {
  const [busy, setBusy] = useState<"push" | "pull">();
  const [output, setOutput] = useState<string>();
  const [error, setError] = useState<ApiError>();
  const run = async (action: "push" | "pull") => {
    setBusy(action);
    setError(undefined);
    setOutput(undefined);
    try {
      const result = await git[action]();
      setOutput(result.output.trim() || `${action === "push" ? "Pushed" : "Pulled"}: nothing more to say.`);
      onChanged();
    } catch (failure) {
      setError(asApiError(failure));
    } finally {
      setBusy(undefined);
    }
  };
  return (
    <section class="ws-panel" aria-label="Remote">
      <h2>Remote</h2>
      <div class="ws-apart">
        <button type="button" onClick={() => run("pull")} disabled={busy !== undefined}>
          {busy === "pull" ? "Pulling…" : "Pull"}
        </button>
        <button type="button" onClick={() => run("push")} disabled={busy !== undefined}>
          {busy === "push" ? "Pushing…" : "Push"}
        </button>
      </div>
      {output && <pre class="ws-output">{output}</pre>}
      <ErrorView error={error} />
    </section>
  );
}
