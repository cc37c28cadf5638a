import { useState } from "preact/hooks";
import { type ApiError, asApiError } from "../../api/api-error";
import { useResource } from "../../state/use-resource";
import { ErrorView } from "../error-view";
import { field, useSubmit } from "../submit";
import type { GitApi } from "./git-api";

/** Local and remote branches; switch to one, or create a new one from here. */
export function GitBranches({ git, onChanged }: { git: GitApi; onChanged: () => void }) {
  const list = useResource(git.branches);
  const [error, setError] = useState<ApiError>();
  const checkout = async (branch: string) => {
    try {
      setError(undefined);
      await git.checkout(branch, false);
      onChanged();
    } catch (failure) {
      setError(asApiError(failure));
    }
  };
  const create = useSubmit(async (form) => {
    await git.checkout(field(form, "branch"), true);
    onChanged();
  });
  return (
    <section class="ws-panel" aria-label="Branches">
      <h2>Branches</h2>
      <ErrorView error={list.error ?? error} />
      {list.loading && !list.data && <p class="muted">Loading…</p>}
      <ul class="ws-branches" aria-label="Branch list">
        {list.data?.branches.map((branch) => (
          <li key={`${branch.remote}-${branch.name}`} data-branch={branch.name}>
            <span>
              {branch.name} {branch.remote && <span class="muted">remote</span>}
            </span>
            {branch.current ? (
              <strong>current</strong>
            ) : (
              !branch.remote && (
                <button type="button" onClick={() => checkout(branch.name)}>
                  Switch
                </button>
              )
            )}
          </li>
        ))}
      </ul>
      <form onSubmit={create.run} aria-label="New branch">
        <label>
          New branch from here
          <input name="branch" required maxLength={255} autoComplete="off" />
        </label>
        <button type="submit" disabled={create.busy}>
          Create and switch
        </button>
        <ErrorView error={create.error} />
      </form>
    </section>
  );
}
