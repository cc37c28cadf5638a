import fs from "node:fs/promises";
import path from "node:path";
import { KaiError } from "../../../shared/errors";
import { type AllowedRoots, confinePath } from "../fs/confine-path";
import { workspaceRoot } from "../fs/workspace-paths";
import { type GitOptions, runGit } from "./command";

/**
 * The root of a workspace git may run in. A repository's metadata need not live in the
 * workspace: a `.git` file (`gitdir: …`), a `.git` symlink, a worktree's `commondir` or a
 * `core.worktree` setting can each point git at a repository or work tree elsewhere, and
 * status, log and branches would then answer file names, commit messages and authors from
 * outside the allowed roots (whoever can write the workspace can write its `.git`). So git is
 * first asked where its repository and work tree are, and both must lie inside the allowed
 * roots, the work tree being the workspace itself. A workspace that is not a repository
 * passes: the command that follows answers that, as before.
 */
export async function repositoryRoot(
  roots: AllowedRoots,
  requestedRoot: string,
  signal?: AbortSignal,
): Promise<string> {
  const root = await workspaceRoot(roots, requestedRoot);
  const options: GitOptions = signal ? { signal } : {};
  const where = await runGit(
    root,
    ["rev-parse", "--absolute-git-dir", "--git-common-dir", "--is-bare-repository"],
    options,
  );
  if (where.code !== 0) return root;
  const [gitDir = "", commonDir = "", bare = ""] = where.stdout.split("\n");
  for (const dir of [gitDir, path.resolve(root, commonDir)]) {
    await confinePath(roots, dir).catch(() => {
      throw outside("its .git leads to a repository outside the allowed roots");
    });
  }
  if (bare.trim() === "true") return root;
  const top = await runGit(root, ["rev-parse", "--show-toplevel"], options);
  const workTree = top.code === 0 ? await fs.realpath(top.stdout.trim()).catch(() => "") : "";
  if (workTree !== root) throw outside("its git work tree (core.worktree) is another folder than the workspace");
  return root;
}

function outside(why: string): KaiError {
  return new KaiError(
    "PERMISSION_DENIED",
    `git does not run in this workspace: ${why}; Kai runs git only on repositories inside this host's allowed roots`,
  );
}
