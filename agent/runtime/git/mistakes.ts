import { KaiError } from "../../../shared/errors";

/**
 * What git refuses because of the request or of the workspace's state, rather than because
 * git or the host failed: each is a 4xx that says what to do next. Git's own words are
 * never passed on here (they hold the host's absolute paths, e.g. "outside repository at
 * '/home/…'", and hints meant for a terminal); a path is named as the client wrote it.
 * Outcomes are told apart by git's English messages (runGit sets LC_ALL=C).
 */

/** How a path git printed is shown: the client's spelling when known, else git's (always relative). */
export type PathNames = ReadonlyMap<string, string>;

interface PathRule {
  pattern: RegExp;
  code: "VALIDATION_ERROR" | "NOT_FOUND";
  message: (path: string) => string;
}

/** Paths git cannot stage; the first group is the path as git received it. */
const PATH_RULES: PathRule[] = [
  {
    pattern: /pathspec '(.*)' is beyond a symbolic link/i,
    code: "VALIDATION_ERROR",
    message: (path) => `${path} goes through a symbolic link; git can commit the link itself, not paths beyond it`,
  },
  {
    pattern: /'(.*)' is outside repository/i,
    code: "VALIDATION_ERROR",
    message: (path) => `${path} is outside the workspace's repository`,
  },
  {
    pattern: /pathspec '(.*)' is in submodule/i,
    code: "VALIDATION_ERROR",
    message: (path) => `${path} is inside a nested repository (a submodule); commit it there`,
  },
  {
    pattern: /'(.*)' does not have a commit checked out/i,
    code: "VALIDATION_ERROR",
    message: (path) =>
      `${stripSlash(path)} is a nested git repository with no commit; commit inside it first, or remove its .git`,
  },
  {
    pattern: /invalid path '(.*)'/i,
    code: "VALIDATION_ERROR",
    message: (path) => `git cannot store a file named ${path}`,
  },
  {
    pattern: /pathspec '(.*)' did not match any file/i,
    code: "NOT_FOUND",
    message: (path) =>
      `${path} is neither in the workspace nor tracked by git; check the path (it is relative to the workspace)`,
  },
];

const MERGING =
  /cannot switch branch while merging|cannot do a partial commit during a merge|Committing is not possible because you have unmerged files|you need to resolve your current index first|not concluded your merge|Pulling is not possible because you have unmerged files/i;

/**
 * The client-side mistake `output` reports, or undefined when it is not one. `paths` turns
 * the paths git printed back into the client's spelling.
 */
export function gitMistake(output: string, paths: PathNames = new Map()): KaiError | undefined {
  for (const rule of PATH_RULES) {
    const match = rule.pattern.exec(output);
    if (!match) continue;
    const path = shownPath(match[1] ?? "", paths);
    return new KaiError(rule.code, rule.message(path), { details: { path } });
  }
  const ignored = /paths are ignored by one of your \.gitignore files:\n((?:(?!hint:)[^\n]+\n?)*)/i.exec(output);
  if (ignored) {
    const names = (ignored[1] ?? "")
      .split("\n")
      .filter(Boolean)
      .map((name) => shownPath(name, paths));
    return new KaiError(
      "VALIDATION_ERROR",
      `${names.join(", ") || "some paths"} ${names.length === 1 ? "is" : "are"} ignored by .gitignore; leave them out, or change .gitignore`,
      {
        details: { paths: names },
      },
    );
  }
  if (/\.lock'?: File exists/i.test(output)) {
    return new KaiError(
      "CONFLICT",
      "another git command is running in this workspace (or one crashed and left a .lock file in .git); try again, or remove the stale lock",
    );
  }
  if (MERGING.test(output)) {
    return new KaiError(
      "CONFLICT",
      "a merge is in progress in this workspace; resolve and commit it, or abort it (git merge --abort), first",
      { details: { reason: "merge in progress" } },
    );
  }
  if (/refusing to merge unrelated histories/i.test(output)) {
    return new KaiError(
      "CONFLICT",
      "the remote branch shares no history with this one; git refuses to merge unrelated histories",
      { details: { reason: "unrelated histories" } },
    );
  }
  if (/Aborting commit due to empty commit message/i.test(output)) {
    return new KaiError(
      "VALIDATION_ERROR",
      "the commit message is empty once blank lines and spaces are removed; write a message",
    );
  }
  const ambiguous = /'(.*)' matched multiple \((\d+)\) remote tracking branches/i.exec(output);
  if (ambiguous) {
    return new KaiError(
      "VALIDATION_ERROR",
      `there is no local branch ${ambiguous[1]}, and ${ambiguous[2]} remotes have one; pass create to start it from the current commit`,
    );
  }
  return undefined;
}

function shownPath(gitPath: string, paths: PathNames): string {
  return paths.get(gitPath) ?? paths.get(stripSlash(gitPath)) ?? gitPath;
}

function stripSlash(path: string): string {
  return path.length > 1 && path.endsWith("/") ? path.slice(0, -1) : path;
}
