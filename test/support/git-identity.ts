import { execFile, execFileSync } from "node:child_process";
import { promisify } from "node:util";

/**
 * git run by a test to set up repositories (not through Kai): commits need an author, and a
 * test must not depend on the machine's git config for one.
 */
export interface GitIdentity {
  name: string;
  email: string;
}

function envOf(who: GitIdentity): NodeJS.ProcessEnv {
  return {
    ...process.env,
    GIT_AUTHOR_NAME: who.name,
    GIT_AUTHOR_EMAIL: who.email,
    GIT_COMMITTER_NAME: who.name,
    GIT_COMMITTER_EMAIL: who.email,
  };
}

/** Runs git in `cwd` as `who` and returns its stdout. */
export function gitAs(who: GitIdentity, cwd: string, ...args: string[]): string {
  return execFileSync("git", args, { cwd, encoding: "utf8", env: envOf(who) });
}

/** The same without blocking the event loop (a test whose own servers must keep answering). */
export function gitAsAsync(who: GitIdentity, cwd: string, ...args: string[]) {
  return promisify(execFile)("git", args, { cwd, env: envOf(who) });
}
