import { useState } from "preact/hooks";
import { type ApiError, asApiError } from "../../api/api-error";
import { useResource } from "../../state/use-resource";
import { ErrorView } from "../error-view";
import { when } from "../when";
import type { GitApi } from "./git-api";

type Commit = Awaited<ReturnType<GitApi["log"]>>["commits"][number];

/** `git log`, newest first, twenty at a time. */
export function GitLog({ git }: { git: GitApi }) {
  const first = useResource(() => git.log(1));
  const [more, setMore] = useState<{ commits: Commit[]; page: number; hasMore: boolean }>();
  const [error, setError] = useState<ApiError>();
  const commits = [...(first.data?.commits ?? []), ...(more?.commits ?? [])];
  const hasMore = more ? more.hasMore : first.data?.hasMore;
  const loadMore = async () => {
    try {
      const page = (more?.page ?? 1) + 1;
      const next = await git.log(page);
      setMore({ commits: [...(more?.commits ?? []), ...next.commits], page, hasMore: next.hasMore });
    } catch (failure) {
      setError(asApiError(failure));
    }
  };
  return (
    <section class="ws-panel" aria-label="History">
      <h2>History</h2>
      <ErrorView error={first.error ?? error} />
      {first.loading && !first.data && <p class="muted">Loading…</p>}
      {first.data && commits.length === 0 && <p class="muted">No commit yet.</p>}
      <ol class="ws-log" aria-label="Commits">
        {commits.map((commit) => (
          <li key={commit.hash} data-commit={commit.hash}>
            <span class="ws-subject">{commit.message.split("\n")[0]}</span>
            <span class="muted">
              <code>{commit.hash.slice(0, 8)}</code> · {commit.author} · {when(commit.date)}
            </span>
          </li>
        ))}
      </ol>
      {hasMore && (
        <button type="button" onClick={loadMore}>
          Older commits
        </button>
      )}
    </section>
  );
}
