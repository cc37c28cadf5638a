import { useMemo, useState } from "preact/hooks";
import { gitApi } from "./git-api";
import { GitBranches } from "./git-branches";
import { GitChanges } from "./git-changes";
import { GitLog } from "./git-log";
import { GitRemote } from "./git-remote";
import type { TabProps } from "./tab-props";

/** The workspace's repository: changes and commit, push and pull, history, branches. */
export function GitTab({ workspaceId }: TabProps) {
  const git = useMemo(() => gitApi(workspaceId), [workspaceId]);
  // Bumped after anything that changes the repository, so every panel reads it again.
  const [version, setVersion] = useState(0);
  const changed = () => setVersion((value) => value + 1);
  return (
    <section class="ws-git" aria-label="Git">
      <GitChanges key={`changes-${version}`} git={git} onCommitted={changed} />
      <GitRemote git={git} onChanged={changed} />
      <GitLog key={`log-${version}`} git={git} />
      <GitBranches key={`branches-${version}`} git={git} onChanged={changed} />
    </section>
  );
}
