import type { z } from "zod";
import type { gitCommitInfo, gitStatus } from "../../../shared/schemas/workspace";

/**
 * Parsers for git's machine-readable output, turned into the wire types at this boundary.
 * Every format used is NUL-separated, so file names and messages with spaces, newlines or
 * quotes come through unchanged.
 */

type GitStatus = z.infer<typeof gitStatus>;
type GitCommitInfo = z.infer<typeof gitCommitInfo>;

/** The `--format` whose output `parseLog` reads; used with `git log -z`. */
export const LOG_FORMAT = "%H%x00%an%x00%ae%x00%aI%x00%B";

/**
 * `git status --porcelain=v2 --branch -z`. File states are git's XY letters: `index` is the
 * staged change, `workingTree` the unstaged one, "." for none; untracked files are "?" "?".
 * Conflicted files keep their two letters (e.g. "U" "U", "A" "A").
 */
export function parseStatus(output: string): GitStatus {
  const status: GitStatus = { branch: null, upstream: null, ahead: 0, behind: 0, clean: true, files: [] };
  const tokens = output.split("\0");
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] ?? "";
    if (token.startsWith("# branch.head ")) {
      const head = token.slice("# branch.head ".length);
      status.branch = head === "(detached)" ? null : head;
    } else if (token.startsWith("# branch.upstream ")) {
      status.upstream = token.slice("# branch.upstream ".length);
    } else if (token.startsWith("# branch.ab ")) {
      const match = /^\+(\d+) -(\d+)$/.exec(token.slice("# branch.ab ".length));
      status.ahead = Number(match?.[1] ?? 0);
      status.behind = Number(match?.[2] ?? 0);
    } else if (token.startsWith("1 ")) {
      status.files.push(entry(token, 8));
    } else if (token.startsWith("2 ")) {
      status.files.push(entry(token, 9));
      i++; // a rename or copy is followed by its original path
    } else if (token.startsWith("u ")) {
      status.files.push(entry(token, 10));
    } else if (token.startsWith("? ")) {
      status.files.push({ path: token.slice(2), index: "?", workingTree: "?" });
    }
  }
  status.clean = status.files.length === 0;
  return status;
}

/** One changed-file record: `fieldCount` space-separated fields, then the path (which may hold spaces). */
function entry(token: string, fieldCount: number): GitStatus["files"][number] {
  let at = 0;
  for (let field = 0; field < fieldCount; field++) at = token.indexOf(" ", at) + 1;
  const xy = token.slice(2, 4);
  return { path: token.slice(at), index: xy[0] ?? ".", workingTree: xy[1] ?? "." };
}

/** `git log -z --format=LOG_FORMAT`: five NUL-separated fields per commit. */
export function parseLog(output: string): GitCommitInfo[] {
  const tokens = output.split("\0");
  const commits: GitCommitInfo[] = [];
  for (let i = 0; i + 4 < tokens.length; i += 5) {
    const [hash, author, email, date, message] = tokens.slice(i, i + 5) as [string, string, string, string, string];
    commits.push({ hash, author, email, date, message: message.trimEnd() });
  }
  return commits;
}

/** The `--format` whose output `parseBranches` reads; used with `git for-each-ref`. */
export const BRANCH_FORMAT = "%(HEAD)%00%(refname)%00%(objectname)%00%(symref)";

export interface BranchInfo {
  name: string;
  current: boolean;
  remote: boolean;
  commit: string;
}

/** Local branches (`main`) and remote-tracking ones (`origin/main`); `origin/HEAD` and other symbolic refs left out. */
export function parseBranches(output: string): BranchInfo[] {
  const branches: BranchInfo[] = [];
  for (const line of output.split("\n")) {
    const [head, ref, commit, symref] = line.split("\0");
    if (!ref || !commit || symref) continue;
    if (ref.startsWith("refs/heads/"))
      branches.push({ name: ref.slice("refs/heads/".length), current: head === "*", remote: false, commit });
    else if (ref.startsWith("refs/remotes/"))
      branches.push({ name: ref.slice("refs/remotes/".length), current: false, remote: true, commit });
  }
  return branches;
}
