import { useState } from "preact/hooks";
import { useResource } from "../../state/use-resource";
import { ErrorView } from "../error-view";
import { field, useSubmit } from "../submit";
import type { GitApi } from "./git-api";

/** What git's two status letters mean, for people. */
const STATE: Record<string, string> = {
  M: "modified",
  A: "added",
  D: "deleted",
  R: "renamed",
  C: "copied",
  U: "conflict",
  "?": "new",
  "!": "ignored",
};
const stateOf = (index: string, workingTree: string) =>
  STATE[workingTree.trim() || index.trim()] ?? `${index}${workingTree}`.trim();

/** `git status`: the branch, the changed files, and a commit of the chosen files (or all of them). */
export function GitChanges({ git, onCommitted }: { git: GitApi; onCommitted: () => void }) {
  const status = useResource(git.status);
  const [chosen, setChosen] = useState<Set<string>>(new Set());
  const commit = useSubmit(async (form) => {
    await git.commit(field(form, "message"), chosen.size > 0 ? [...chosen] : undefined);
    onCommitted();
  });
  const toggle = (path: string) => {
    const next = new Set(chosen);
    if (!next.delete(path)) next.add(path);
    setChosen(next);
  };
  const data = status.data;
  return (
    <section class="ws-panel" aria-label="Changes">
      <h2>Changes</h2>
      <ErrorView error={status.error} />
      {status.loading && !data && <p class="muted">Loading…</p>}
      {data && (
        <p class="muted" data-branch={data.branch ?? ""}>
          On {data.branch ? <strong>{data.branch}</strong> : "no branch (detached)"}
          {data.upstream && ` · tracking ${data.upstream}`}
          {data.ahead > 0 && ` · ${data.ahead} to push`}
          {data.behind > 0 && ` · ${data.behind} to pull`}
        </p>
      )}
      {data?.clean && <p class="muted">Nothing changed since the last commit.</p>}
      <ul class="ws-changes" aria-label="Changed files">
        {data?.files.map((file) => (
          <li key={file.path} data-change={file.path}>
            <label class="ws-check">
              <input type="checkbox" checked={chosen.has(file.path)} onChange={() => toggle(file.path)} />
              <span>{file.path}</span>
            </label>
            <span class="muted">{stateOf(file.index, file.workingTree)}</span>
          </li>
        ))}
      </ul>
      <form onSubmit={commit.run} aria-label="Commit">
        <label>
          Commit message
          <textarea name="message" required rows={3} maxLength={10_000} />
        </label>
        <button type="submit" class="primary" disabled={commit.busy}>
          {chosen.size > 0 ? `Commit ${chosen.size} chosen file${chosen.size > 1 ? "s" : ""}` : "Commit all changes"}
        </button>
        <ErrorView error={commit.error} />
      </form>
    </section>
  );
}
