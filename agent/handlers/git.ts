import path from "node:path";
import { deadlineOf } from "../../shared/commands";
import { KaiError } from "../../shared/errors";
import { assertRefName, type GitOptions, git, gitFailure, runGit } from "../runtime/git/command";
import { BRANCH_FORMAT, LOG_FORMAT, parseBranches, parseLog, parseStatus } from "../runtime/git/porcelain";
import { repositoryRoot } from "../runtime/git/repository";
import type { Handler, HandlerContext, Handlers } from "./types";

/**
 * Version control of a workspace, through real git (runtime/git.ts). Every user-supplied
 * ref is checked twice (zod, then `assertRefName` with git itself) before any other git
 * command runs, and is then passed after `--end-of-options` or inside a full `refs/heads/…`
 * refspec; paths go after `--` and are literal (no pathspec magic).
 */

const status: Handler<"git.status"> = async (params, ctx) => {
  const root = await repositoryRoot(ctx.policy, params.root, ctx.signal);
  return parseStatus(await git(root, ["status", "--porcelain=v2", "--branch", "-z"], opts(ctx)));
};

const log: Handler<"git.log"> = async (params, ctx) => {
  const root = await repositoryRoot(ctx.policy, params.root, ctx.signal);
  if ((await headCommit(root, ctx)) === null) return { commits: [], hasMore: false };
  // One more than asked tells whether another page exists.
  const output = await git(
    root,
    ["log", "-z", `--format=${LOG_FORMAT}`, `--skip=${params.skip}`, `--max-count=${params.limit + 1}`, "HEAD", "--"],
    opts(ctx),
  );
  const commits = parseLog(output);
  return { commits: commits.slice(0, params.limit), hasMore: commits.length > params.limit };
};

/**
 * `paths`: stages exactly those (new, changed or deleted) and commits only them, leaving
 * anything else staged as it was. `all`: stages everything, untracked files included.
 * Neither: commits what is already staged. The author (and committer) is the Kai user.
 */
const commit: Handler<"git.commit"> = async (params, ctx) => {
  if (params.all && params.paths !== undefined)
    throw new KaiError("VALIDATION_ERROR", "pass either paths or all, not both");
  const env = identityEnv(params.author);
  // Git's spelling of each path → the client's, so an error names the path as it was sent.
  const names = new Map(params.paths?.map((value) => [repositoryPath(value), value]));
  const paths = params.paths?.map(repositoryPath);
  if (paths?.length === 0) throw new KaiError("VALIDATION_ERROR", "paths is empty; pass at least one path or all");
  const root = await repositoryRoot(ctx.policy, params.root, ctx.signal);
  const pathspec = paths ? ["--", ...paths] : [];
  const named = { ...opts(ctx), paths: names };
  if (params.all) await git(root, ["add", "--all"], named);
  else if (paths) await git(root, ["add", "--all", ...pathspec], named);
  const staged = await runGit(root, ["diff", "--cached", "--quiet", ...pathspec], named);
  if (staged.code === 0) throw new KaiError("CONFLICT", "nothing to commit");
  if (staged.code !== 1) throw gitFailure(staged, "diff", false, names);
  // The message travels on stdin: it never becomes an argument git could misread.
  const summary = await git(root, ["commit", "--file=-", ...pathspec], { ...named, env, input: params.message });
  return {
    hash: (await git(root, ["rev-parse", "HEAD"], opts(ctx))).trim(),
    branch: await currentBranch(root, ctx),
    summary: summary.trim(),
  };
};

/** The Kai user as git's author and committer; refused when it could break git's header format. */
function identityEnv(author: { name: string; email: string }): Record<string, string> {
  for (const value of [author.name, author.email]) {
    if (/[<>\n\r\0]/.test(value))
      throw new KaiError("VALIDATION_ERROR", "the author's name and email must not contain <, > or line breaks");
  }
  return {
    GIT_AUTHOR_NAME: author.name,
    GIT_AUTHOR_EMAIL: author.email,
    GIT_COMMITTER_NAME: author.name,
    GIT_COMMITTER_EMAIL: author.email,
  };
}

/** Pushes one local branch to the same name on the remote; sets the upstream the first time. */
const push: Handler<"git.push"> = async (params, ctx) => {
  const root = await repositoryRoot(ctx.policy, params.root, ctx.signal);
  await checkRefs(root, params);
  const branch = params.branch ?? (await currentBranch(root, ctx)) ?? detached("push");
  const local = await runGit(root, ["show-ref", "--verify", "--quiet", `refs/heads/${branch}`], opts(ctx));
  if (local.code === 1) throw new KaiError("NOT_FOUND", `no local branch named ${branch}`);
  if (local.code !== 0) throw gitFailure(local, "show-ref");
  const upstream = await upstreamOf(root, branch, ctx);
  const remote = params.remote ?? upstream?.remote ?? "origin";
  await requireRemote(root, remote, ctx);
  const refspec = `refs/heads/${branch}:refs/heads/${branch}`; // explicit: a leading "+" can never mean force
  const args = ["push", "--porcelain", ...(upstream ? [] : ["--set-upstream"]), "--end-of-options", remote, refspec];
  const run = await runGit(root, args, { ...opts(ctx), timeoutMs: deadlineOf("git.push", params) });
  const output = `${run.stdout}${run.stderr}`.trim();
  if (run.code === 0) return { remote, branch, output };
  const rejected = /^!\t.*\t\[(?:remote )?rejected\] \(([^)]*)\)/m.exec(run.stdout);
  if (rejected) {
    // "fetch first" is git's non-fast-forward when the remote's new commits are not even fetched yet.
    const reason =
      rejected[1] === "fetch first" || rejected[1] === "non-fast-forward"
        ? "non-fast-forward"
        : (rejected[1] ?? "rejected");
    throw new KaiError("CONFLICT", `the remote rejected the push (${reason}); pull first`, {
      details: { reason, output },
    });
  }
  throw gitFailure(run, "push", true);
};

/**
 * Fetches and merges (never rebases, whatever pull.rebase says, so a conflict looks the same
 * everywhere). A merge that stops at a conflict is aborted, leaving the workspace as it was
 * before the pull, and answered with CONFLICT naming the conflicting paths.
 */
const pull: Handler<"git.pull"> = async (params, ctx) => {
  const root = await repositoryRoot(ctx.policy, params.root, ctx.signal);
  await checkRefs(root, params);
  const current = (await currentBranch(root, ctx)) ?? detached("pull");
  const upstream = await upstreamOf(root, current, ctx);
  const remote = params.remote ?? upstream?.remote ?? "origin";
  const branch = params.branch ?? upstream?.branch ?? current;
  await requireRemote(root, remote, ctx);
  const before = await headCommit(root, ctx);
  const args = ["pull", "--no-rebase", "--no-edit", "--end-of-options", remote, `refs/heads/${branch}`];
  const env = params.author ? identityEnv(params.author) : undefined;
  const run = await runGit(root, args, {
    ...opts(ctx),
    timeoutMs: deadlineOf("git.pull", params),
    ...(env ? { env } : {}),
  });
  const output = `${run.stdout}${run.stderr}`.trim();
  if (run.code === 0) return { remote, branch, output, updated: (await headCommit(root, ctx)) !== before };
  if (/^CONFLICT|Automatic merge failed/m.test(output)) {
    const conflicts = (await git(root, ["diff", "--name-only", "--diff-filter=U", "-z"], opts(ctx)))
      .split("\0")
      .filter(Boolean);
    await git(root, ["merge", "--abort"], opts(ctx));
    throw new KaiError(
      "CONFLICT",
      `pulling ${remote}/${branch} conflicts in ${conflicts.length} file(s); the merge was aborted and nothing changed`,
      {
        details: { conflicts, aborted: true, output },
      },
    );
  }
  if (/would be overwritten by merge|commit your changes or stash them/i.test(output)) {
    throw new KaiError("CONFLICT", "local changes would be overwritten by the pull; commit or stash them first", {
      details: { reason: "local changes", output },
    });
  }
  if (/not concluded your merge|unmerged files|Pulling is not possible/i.test(output)) {
    throw new KaiError("CONFLICT", "a merge is in progress in this workspace; finish or abort it first", {
      details: { reason: "merge in progress", output },
    });
  }
  if (/couldn't find remote ref/i.test(output))
    throw new KaiError("NOT_FOUND", `${remote} has no branch named ${branch}`, { details: { output } });
  throw gitFailure(run, "pull", true);
};

const branches: Handler<"git.branches"> = async (params, ctx) => {
  const root = await repositoryRoot(ctx.policy, params.root, ctx.signal);
  const refs = parseBranches(
    await git(root, ["for-each-ref", `--format=${BRANCH_FORMAT}`, "refs/heads", "refs/remotes"], opts(ctx)),
  );
  return { current: await currentBranch(root, ctx), branches: refs };
};

/**
 * Switches branch (`git switch`, which never touches paths). Without `create`, a branch that
 * exists only on one remote is created from it, as `git switch` does; `created` says so.
 */
const checkout: Handler<"git.checkout"> = async (params, ctx) => {
  const root = await repositoryRoot(ctx.policy, params.root, ctx.signal);
  await assertRefName(root, params.branch, "branch");
  const { branch } = params;
  const exists = await runGit(root, ["show-ref", "--verify", "--quiet", `refs/heads/${branch}`], opts(ctx));
  if (exists.code !== 0 && exists.code !== 1) throw gitFailure(exists, "show-ref");
  if (params.create) {
    if (exists.code === 0) throw new KaiError("CONFLICT", `a branch named ${branch} already exists`);
    if ((await headCommit(root, ctx)) === null) {
      // No commit yet, so nothing to branch from: the unborn branch is just renamed.
      await git(root, ["symbolic-ref", "HEAD", `refs/heads/${branch}`], opts(ctx));
      return { branch, created: true };
    }
    await git(root, ["branch", "--end-of-options", branch], opts(ctx));
  }
  const run = await runGit(root, ["switch", "--end-of-options", branch], opts(ctx));
  if (run.code !== 0) {
    const output = `${run.stderr}${run.stdout}`.trim();
    if (/invalid reference|did not match|not a commit/i.test(output))
      throw new KaiError("NOT_FOUND", `no branch named ${branch}`);
    if (/would be overwritten by checkout|commit your changes or stash them/i.test(output)) {
      throw new KaiError(
        "CONFLICT",
        `local changes would be overwritten by switching to ${branch}; commit or stash them first`,
        { details: { output } },
      );
    }
    throw gitFailure(run, "switch");
  }
  return { branch, created: params.create || exists.code === 1 };
};

export const gitHandlers = {
  "git.status": status,
  "git.log": log,
  "git.commit": commit,
  "git.push": push,
  "git.pull": pull,
  "git.branches": branches,
  "git.checkout": checkout,
} satisfies Pick<
  Handlers,
  "git.status" | "git.log" | "git.commit" | "git.push" | "git.pull" | "git.branches" | "git.checkout"
>;

function opts(ctx: HandlerContext): GitOptions {
  return { signal: ctx.signal };
}

async function checkRefs(
  root: string,
  params: { remote?: string | undefined; branch?: string | undefined },
): Promise<void> {
  if (params.remote !== undefined) await assertRefName(root, params.remote, "remote");
  if (params.branch !== undefined) await assertRefName(root, params.branch, "branch");
}

/** The current commit, or null on a branch with no commits yet. */
async function headCommit(root: string, ctx: HandlerContext): Promise<string | null> {
  const run = await runGit(root, ["rev-parse", "--verify", "--quiet", "HEAD^{commit}"], opts(ctx));
  if (run.code === 0) return run.stdout.trim();
  if (run.code === 1) return null;
  throw gitFailure(run, "rev-parse");
}

/** The checked-out branch, or null when HEAD is detached. */
async function currentBranch(root: string, ctx: HandlerContext): Promise<string | null> {
  const run = await runGit(root, ["symbolic-ref", "--quiet", "--short", "HEAD"], opts(ctx));
  if (run.code === 0) return run.stdout.trim();
  if (run.code === 1) return null;
  throw gitFailure(run, "symbolic-ref");
}

async function upstreamOf(
  root: string,
  branch: string,
  ctx: HandlerContext,
): Promise<{ remote: string; branch: string } | null> {
  const remote = await runGit(root, ["config", "--get", `branch.${branch}.remote`], opts(ctx));
  const merge = await runGit(root, ["config", "--get", `branch.${branch}.merge`], opts(ctx));
  if (remote.code !== 0 || merge.code !== 0) return null;
  return { remote: remote.stdout.trim(), branch: merge.stdout.trim().replace(/^refs\/heads\//, "") };
}

async function requireRemote(root: string, remote: string, ctx: HandlerContext): Promise<void> {
  const remotes = (await git(root, ["remote"], opts(ctx))).split("\n").map((line) => line.trim());
  if (!remotes.includes(remote)) throw new KaiError("NOT_FOUND", `no remote named ${remote}`);
}

function detached(what: string): never {
  throw new KaiError("VALIDATION_ERROR", `HEAD is detached; name the branch to ${what}`);
}

/** A path inside the repository as git should see it; `..` or absolute paths are refused like any file path. */
function repositoryPath(value: string): string {
  const normalized = path.posix.normalize(value);
  if (
    value.includes("\0") ||
    path.posix.isAbsolute(normalized) ||
    normalized === ".." ||
    normalized.startsWith("../")
  ) {
    throw new KaiError("PERMISSION_DENIED", `${value} is outside the workspace`);
  }
  return normalized;
}
