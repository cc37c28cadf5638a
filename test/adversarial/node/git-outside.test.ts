import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gitHandlers } from "../../../agent/handlers/git";
import { gitAs } from "../../support/git-identity";
import { call, kaiError, type WorkspaceWorld, workspaceWorld } from "../../support/workspace-handlers";

/**
 * Whoever can write a workspace can write its `.git`: a `.git` file or symlink naming a
 * repository outside the allowed roots, or `core.worktree` naming a folder outside, made
 * git.status and git.log answer that repository's commit messages and that folder's file
 * names. Git now runs only where its repository and work tree are inside the roots.
 */

let world: WorkspaceWorld;
/** A repository outside the allowed roots, its one commit message a secret. */
let secretRepo: string;
const SECRET = "SECRET-outside-the-roots";

const sh = (cwd: string, ...args: string[]): string => gitAs({ name: "A", email: "a@kai.test" }, cwd, ...args);

async function repo(dir: string, message: string): Promise<string> {
  await fs.mkdir(dir, { recursive: true });
  sh(dir, "init", "-q", "-b", "main");
  await fs.writeFile(path.join(dir, "file.txt"), `${message}\n`);
  sh(dir, "add", "file.txt");
  sh(dir, "commit", "-q", "-m", message);
  return dir;
}

async function workspace(name: string): Promise<string> {
  const dir = path.join(world.root, name);
  await fs.mkdir(dir);
  return dir;
}

beforeAll(async () => {
  world = await workspaceWorld("git-outside");
  secretRepo = await repo(path.join(world.outside, "secret-repo"), SECRET);
});
afterAll(async () => {
  await world?.cleanup();
});

const log = (root: string) => call(gitHandlers, "git.log", { root, skip: 0, limit: 10 }, world.ctx());
const status = (root: string) => call(gitHandlers, "git.status", { root }, world.ctx());

describe("git in a workspace whose .git leads out of the allowed roots", () => {
  it("refuses a .git file naming an outside repository", async () => {
    const root = await workspace("gitdir-file");
    await fs.writeFile(path.join(root, ".git"), `gitdir: ${path.join(secretRepo, ".git")}\n`);
    for (const ask of [log, status]) {
      const error = await kaiError(ask(root));
      expect(error.code).toBe("PERMISSION_DENIED");
      expect(JSON.stringify(error)).not.toContain(SECRET);
    }
  });

  it("refuses a .git symlink to an outside repository", async () => {
    const root = await workspace("gitdir-link");
    await fs.symlink(path.join(secretRepo, ".git"), path.join(root, ".git"));
    expect((await kaiError(log(root))).code).toBe("PERMISSION_DENIED");
  });

  it("refuses core.worktree naming an outside folder (its files would be listed)", async () => {
    const root = await repo(path.join(world.root, "worktree-config"), "inside");
    await fs.writeFile(path.join(world.outside, "outside-only-name.txt"), "x");
    sh(root, "config", "core.worktree", world.outside);
    const error = await kaiError(status(root));
    expect(error.code).toBe("PERMISSION_DENIED");
    expect(JSON.stringify(error)).not.toContain("outside-only-name");
  });

  it("still works for a repository inside, and for a linked worktree whose repository is inside", async () => {
    const main = await repo(path.join(world.root, "main-repo"), "inside commit");
    expect((await log(main)).commits.map((commit) => commit.message.trim())).toEqual(["inside commit"]);
    const linked = path.join(world.root, "linked-worktree");
    sh(main, "worktree", "add", "-q", "-b", "feature", linked);
    expect((await log(linked)).commits.map((commit) => commit.message.trim())).toEqual(["inside commit"]);
    expect((await status(linked)).branch).toBe("feature");
  });
});
