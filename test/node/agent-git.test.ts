import { execFileSync } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gitHandlers } from "../../agent/handlers/git";
import type { Handlers } from "../../agent/handlers/types";
import { KaiError } from "../../shared/errors";
import { gitAs } from "../support/git-identity";
import { until } from "../support/until";
import { call, kaiError, type WorkspaceWorld, workspaceWorld } from "../support/workspace-handlers";

/**
 * git.* against real repositories: the workspace is a clone-like repo whose `origin` is a
 * bare repository in a temp dir, and a second clone plays the colleague who pushes first.
 */

let world: WorkspaceWorld;
let root: string;
let bare: string;
let colleague: string;
const savedEnv = { ...process.env };
const author = { name: "Ada Kai", email: "ada@kai.test" };

/** Plain git for setting the scene, as a person at a terminal would. */
const sh = (cwd: string, ...args: string[]): string => gitAs({ name: "Colleague", email: "c@kai.test" }, cwd, ...args);

const run = <O extends keyof Handlers & `git.${string}`>(op: O, params: Omit<Parameters<Handlers[O]>[0], "root">) =>
  call(gitHandlers, op, { root, ...params } as Parameters<Handlers[O]>[0], world.ctx());
const write = (file: string, text: string) =>
  fs
    .mkdir(path.dirname(path.join(root, file)), { recursive: true })
    .then(() => fs.writeFile(path.join(root, file), text));
const commitAll = (message: string) => run("git.commit", { message, all: true, author });

beforeAll(async () => {
  world = await workspaceWorld("git");
  root = world.root;
  bare = path.join(world.tmp, "origin.git");
  colleague = path.join(world.tmp, "colleague");
  // Neither the developer's global git config nor the system's may change what git does here.
  const globalConfig = path.join(world.tmp, "gitconfig");
  // No identity, and no guessing one from the host name: a host where git was never set up.
  await fs.writeFile(globalConfig, "[user]\n\tuseConfigOnly = true\n");
  process.env.GIT_CONFIG_GLOBAL = globalConfig;
  process.env.GIT_CONFIG_NOSYSTEM = "1";
  delete process.env.EMAIL;
});

afterAll(async () => {
  process.env = savedEnv;
  await world?.cleanup();
});

describe("outside a repository", () => {
  it("answers VALIDATION_ERROR 'not a git repository'", async () => {
    expect(await kaiError(run("git.status", {}))).toMatchObject({
      code: "VALIDATION_ERROR",
      message: "not a git repository",
    });
    expect((await kaiError(run("git.log", { skip: 0, limit: 10 }))).code).toBe("VALIDATION_ERROR");
  });

  it("never falls through to an enclosing repository", async () => {
    sh(world.tmp, "init", "-q", "-b", "main", "enclosing");
    const inner = path.join(world.tmp, "enclosing", "inner");
    await fs.mkdir(inner);
    const policy = { ...world.policy, allowedRoots: [world.tmp] };
    const error = await kaiError(call(gitHandlers, "git.status", { root: inner }, world.ctx({ policy })));
    expect(error.message).toBe("not a git repository");
  });
});

describe("a repository", () => {
  beforeAll(() => {
    sh(world.tmp, "init", "-q", "--bare", "-b", "main", bare);
    sh(root, "init", "-q", "-b", "main");
    sh(root, "remote", "add", "origin", bare);
  });

  it("reports an empty repository", async () => {
    expect(await run("git.status", {})).toEqual({
      branch: "main",
      upstream: null,
      ahead: 0,
      behind: 0,
      clean: true,
      files: [],
    });
    expect(await run("git.log", { skip: 0, limit: 5 })).toEqual({ commits: [], hasMore: false });
  });

  it("commits only the given paths, with the Kai user as author", async () => {
    await write("a.txt", "one\n");
    await write("b.txt", "bee\n");
    await write("dir/with space.txt", "spaced\n");
    const untracked = await run("git.status", {});
    expect(untracked.clean).toBe(false);
    expect(untracked.files).toEqual(
      expect.arrayContaining([
        { path: "a.txt", index: "?", workingTree: "?" },
        { path: "dir/", index: "?", workingTree: "?" },
      ]),
    );

    const result = await run("git.commit", { message: "Add a", paths: ["a.txt"], all: false, author });
    expect(result).toMatchObject({ branch: "main", hash: sh(root, "rev-parse", "HEAD").trim() });
    expect(result.summary).toContain("Add a");
    expect(sh(root, "log", "-1", "--format=%an%x00%ae%x00%cn%x00%ce")).toBe(
      "Ada Kai\0ada@kai.test\0Ada Kai\0ada@kai.test\n",
    );
    expect(sh(root, "show", "--name-only", "--format=", "HEAD").trim()).toBe("a.txt");
    expect((await run("git.status", {})).files.map((file) => file.path).sort()).toEqual(["b.txt", "dir/"]);
  });

  it("commits everything with all, untracked files and spaces included", async () => {
    await commitAll("Add the rest\n\nwith a body");
    expect(sh(root, "show", "--name-only", "--format=", "HEAD").trim().split("\n").sort()).toEqual([
      "b.txt",
      "dir/with space.txt",
    ]);
    expect((await run("git.status", {})).clean).toBe(true);
  });

  it("answers CONFLICT when there is nothing to commit, and refuses bad input", async () => {
    expect(await kaiError(commitAll("empty"))).toMatchObject({ code: "CONFLICT", message: "nothing to commit" });
    expect(
      (await kaiError(run("git.commit", { message: "x", paths: ["../outside.txt"], all: false, author }))).code,
    ).toBe("PERMISSION_DENIED");
    expect((await kaiError(run("git.commit", { message: "x", paths: ["a.txt"], all: true, author }))).code).toBe(
      "VALIDATION_ERROR",
    );
    expect(
      (await kaiError(run("git.commit", { message: "x", all: true, author: { name: "Eve <evil@x>", email: "e@x.y" } })))
        .code,
    ).toBe("VALIDATION_ERROR");
    expect((await kaiError(run("git.commit", { message: "x", paths: ["missing.txt"], all: false, author }))).code).toBe(
      "NOT_FOUND",
    );
  });

  it("shows staged and unstaged changes", async () => {
    await write("a.txt", "one\ntwo\n");
    await write("b.txt", "changed\n");
    sh(root, "add", "b.txt");
    const status = await run("git.status", {});
    expect(status.files).toEqual([
      { path: "a.txt", index: ".", workingTree: "M" },
      { path: "b.txt", index: "M", workingTree: "." },
    ]);
    await commitAll("Change a and b");
  });

  it("pages through the log, newest first", async () => {
    for (const n of [1, 2, 3]) {
      await write("counter.txt", `${n}\n`);
      await commitAll(`Count ${n}`);
    }
    const first = await run("git.log", { skip: 0, limit: 2 });
    expect(first.hasMore).toBe(true);
    expect(first.commits.map((commit) => commit.message)).toEqual(["Count 3", "Count 2"]);
    expect(first.commits[0]).toMatchObject({
      author: "Ada Kai",
      email: "ada@kai.test",
      hash: sh(root, "rev-parse", "HEAD").trim(),
    });
    expect(Date.parse(first.commits[0]!.date)).not.toBeNaN();
    const middle = await run("git.log", { skip: 3, limit: 2 });
    expect(middle).toMatchObject({
      hasMore: true,
      commits: [{ message: "Change a and b" }, { message: "Add the rest\n\nwith a body" }],
    });
    expect(await run("git.log", { skip: 5, limit: 2 })).toMatchObject({
      hasMore: false,
      commits: [{ message: "Add a" }],
    });
    expect(await run("git.log", { skip: 6, limit: 2 })).toEqual({ commits: [], hasMore: false });
  });

  it("pushes, setting the upstream the first time, and tracks ahead/behind", async () => {
    const pushed = await run("git.push", {});
    expect(pushed).toMatchObject({ remote: "origin", branch: "main" });
    expect(sh(bare, "rev-parse", "main")).toBe(sh(root, "rev-parse", "HEAD"));
    expect(await run("git.status", {})).toMatchObject({ upstream: "origin/main", ahead: 0, behind: 0 });

    await write("a.txt", "local\n");
    await commitAll("Local change");
    expect(await run("git.status", {})).toMatchObject({ ahead: 1, behind: 0 });
    await run("git.push", { remote: "origin", branch: "main" });
    expect(await run("git.status", {})).toMatchObject({ ahead: 0, behind: 0 });

    sh(world.tmp, "clone", "-q", bare, colleague);
    await fs.writeFile(path.join(colleague, "theirs.txt"), "theirs\n");
    sh(colleague, "add", "theirs.txt");
    sh(colleague, "commit", "-q", "-m", "Theirs");
    sh(colleague, "push", "-q", "origin", "main");
    sh(root, "fetch", "-q");
    expect(await run("git.status", {})).toMatchObject({ ahead: 0, behind: 1 });
  });

  it("pulls", async () => {
    const pulled = await run("git.pull", {});
    expect(pulled).toMatchObject({ remote: "origin", branch: "main", updated: true });
    expect(await fs.readFile(path.join(root, "theirs.txt"), "utf8")).toBe("theirs\n");
    expect(await run("git.pull", {})).toMatchObject({ updated: false });
  });

  it("answers CONFLICT when a push is rejected as non-fast-forward", async () => {
    await fs.writeFile(path.join(colleague, "race.txt"), "first\n");
    sh(colleague, "add", "race.txt");
    sh(colleague, "commit", "-q", "-m", "Colleague wins the race");
    sh(colleague, "push", "-q", "origin", "main");
    await write("mine.txt", "mine\n");
    await commitAll("Mine");
    const error = await kaiError(run("git.push", {}));
    expect(error).toMatchObject({ code: "CONFLICT", details: { reason: "non-fast-forward" } });
    expect(String(error.details?.output)).toContain("rejected");
    expect(sh(bare, "log", "-1", "--format=%s", "main").trim()).toBe("Colleague wins the race");
  });

  it("merges a pull that diverged, once git knows who commits the merge", async () => {
    sh(root, "fetch", "-q");
    sh(root, "reset", "-q", "--hard", "origin/main");
    await fs.writeFile(path.join(colleague, "c.txt"), "c\n");
    sh(colleague, "add", "c.txt");
    sh(colleague, "commit", "-q", "-m", "Their c");
    sh(colleague, "push", "-q", "origin", "main");
    await write("d.txt", "d\n");
    await commitAll("Our d");
    const head = sh(root, "rev-parse", "HEAD");
    // This host has no git identity, and git.pull carries no author: a clear refusal, nothing changed.
    const anonymous = await kaiError(run("git.pull", {}));
    expect(anonymous.code).toBe("VALIDATION_ERROR");
    expect(anonymous.message).toContain("user.name");
    expect(sh(root, "rev-parse", "HEAD")).toBe(head);

    sh(root, "config", "--global", "user.name", "Host Owner");
    sh(root, "config", "--global", "user.email", "owner@kai.test");
    expect(await run("git.pull", {})).toMatchObject({ updated: true });
    expect(sh(root, "log", "-1", "--format=%P").trim().split(" ")).toHaveLength(2);
    await run("git.push", {});
  });

  it("answers CONFLICT naming the conflicting paths when a pull cannot merge, and aborts the merge", async () => {
    sh(colleague, "pull", "-q", "origin", "main");
    await fs.writeFile(path.join(colleague, "a.txt"), "theirs wins\n");
    sh(colleague, "commit", "-q", "-am", "Their a");
    sh(colleague, "push", "-q", "origin", "main");
    await write("a.txt", "ours wins\n");
    await commitAll("Our a");
    const head = sh(root, "rev-parse", "HEAD");

    const error = await kaiError(run("git.pull", {}));
    expect(error).toMatchObject({ code: "CONFLICT", details: { conflicts: ["a.txt"], aborted: true } });
    expect(sh(root, "rev-parse", "HEAD")).toBe(head);
    expect(await fs.readFile(path.join(root, "a.txt"), "utf8")).toBe("ours wins\n");
    await expect(fs.stat(path.join(root, ".git", "MERGE_HEAD"))).rejects.toThrow();
    expect((await run("git.status", {})).clean).toBe(true);
    sh(root, "reset", "-q", "--hard", "origin/main");
  });

  it("answers NETWORK_ERROR for an unreachable remote and NOT_FOUND for an unknown one", async () => {
    sh(root, "remote", "add", "broken", path.join(world.tmp, "no-such-repo.git"));
    expect((await kaiError(run("git.push", { remote: "broken" }))).code).toBe("NETWORK_ERROR");
    expect((await kaiError(run("git.pull", { remote: "broken", branch: "main" }))).code).toBe("NETWORK_ERROR");
    expect(await kaiError(run("git.push", { remote: "nosuch" }))).toMatchObject({
      code: "NOT_FOUND",
      message: "no remote named nosuch",
    });
    expect((await kaiError(run("git.pull", { branch: "no-such-branch" }))).code).toBe("NOT_FOUND");
  });

  it("lists local and remote branches", async () => {
    sh(root, "fetch", "-q");
    const listing = await run("git.branches", {});
    expect(listing.current).toBe("main");
    expect(listing.branches).toEqual(
      expect.arrayContaining([
        { name: "main", current: true, remote: false, commit: sh(root, "rev-parse", "main").trim() },
        expect.objectContaining({ name: "origin/main", current: false, remote: true }),
      ]),
    );
    expect(listing.branches.map((branch) => branch.name)).not.toContain("origin/HEAD");
  });

  it("checks out existing and new branches, and answers NOT_FOUND for unknown ones", async () => {
    expect(await run("git.checkout", { branch: "feature/x", create: true })).toEqual({
      branch: "feature/x",
      created: true,
    });
    expect((await run("git.status", {})).branch).toBe("feature/x");
    expect((await kaiError(run("git.checkout", { branch: "feature/x", create: true }))).code).toBe("CONFLICT");
    expect(await run("git.checkout", { branch: "main", create: false })).toEqual({ branch: "main", created: false });
    expect((await kaiError(run("git.checkout", { branch: "no-such-branch", create: false }))).code).toBe("NOT_FOUND");
    expect((await run("git.branches", {})).current).toBe("main");
  });

  it("kills git and its children when the request is cancelled", async () => {
    const hook = path.join(root, ".git", "hooks", "pre-commit");
    const pidFile = path.join(world.tmp, "hook.pid");
    await fs.writeFile(hook, `#!/bin/sh\necho $$ > '${pidFile}'\nexec sleep 30\n`, { mode: 0o755 });
    await write("slow.txt", "slow\n");
    const controller = new AbortController();
    const started = Date.now();
    const pending = call(
      gitHandlers,
      "git.commit",
      { root, message: "Slow", all: true, author },
      world.ctx({ signal: controller.signal }),
    );
    await until(
      () =>
        fs.stat(pidFile).then(
          () => true,
          () => false,
        ),
      10_000,
      "the hook to start",
    );
    controller.abort(new KaiError("AGENT_OFFLINE", "cancelled by the edge"));
    expect((await kaiError(pending)).code).toBe("AGENT_OFFLINE");
    expect(Date.now() - started).toBeLessThan(10_000);
    const pid = Number(await fs.readFile(pidFile, "utf8"));
    const gone = () => {
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    };
    await until(gone, 5_000, "the hook's sleep to be killed");
    await fs.rm(hook);
    sh(root, "reset", "-q", "--hard"); // also drops the staged slow.txt
  });

  it("refuses option-like and malformed refs before git runs anything with them", async () => {
    // A git on PATH that logs every invocation, then runs the real one.
    const bin = path.join(world.tmp, "bin");
    const calls = path.join(world.tmp, "git-calls.log");
    const marker = path.join(world.tmp, "pwned");
    const realGit = execFileSync("sh", ["-c", "command -v git"], { encoding: "utf8" }).trim();
    await fs.mkdir(bin, { recursive: true });
    await fs.writeFile(
      path.join(bin, "git"),
      `#!/bin/sh\nprintf '%s\\n' "$*" >> '${calls}'\nexec '${realGit}' "$@"\n`,
      { mode: 0o755 },
    );
    const branchesBefore = sh(root, "for-each-ref");
    const optionLike = [
      `--upload-pack=touch ${marker}`,
      "-f",
      "--force",
      "-",
      "--exec=touch pwned",
      "-b",
      "--orphan=x",
      " main",
      "a b",
    ];
    const malformed = ["a..b", "x.lock", "@{-1}", "refs/../x", "HEAD", "main~1", "a:b"];
    const path0 = process.env.PATH;
    process.env.PATH = `${bin}:${path0}`;
    try {
      const attempts = (name: string) => [
        () => gitHandlers["git.checkout"]({ root, branch: name, create: false }, world.ctx()),
        () => gitHandlers["git.checkout"]({ root, branch: name, create: true }, world.ctx()),
        () => gitHandlers["git.push"]({ root, remote: name }, world.ctx()),
        () => gitHandlers["git.push"]({ root, branch: name }, world.ctx()),
        () => gitHandlers["git.pull"]({ root, remote: name }, world.ctx()),
        () => gitHandlers["git.pull"]({ root, remote: "origin", branch: name }, world.ctx()),
      ];
      for (const name of [...optionLike, ...malformed]) {
        for (const attempt of attempts(name)) expect((await kaiError(attempt())).code, name).toBe("VALIDATION_ERROR");
      }
    } finally {
      process.env.PATH = path0;
    }
    const logged = (await fs.readFile(calls, "utf8").catch(() => "")).split("\n").filter(Boolean);
    // Option-like names never reach git at all; malformed ones reach only check-ref-format
    // (besides the lookup of where the repository is, which carries no name).
    expect(logged.length).toBeGreaterThan(0);
    for (const line of logged)
      expect(line).toMatch(
        /^--no-pager -C \S+ (check-ref-format --branch |rev-parse --absolute-git-dir |rev-parse --show-toplevel$)/,
      );
    for (const name of optionLike) expect(logged.some((line) => line.endsWith(`--branch ${name}`))).toBe(false);
    await expect(fs.stat(marker)).rejects.toThrow();
    await expect(fs.stat(path.join(root, "pwned"))).rejects.toThrow();
    expect(sh(root, "for-each-ref")).toBe(branchesBefore);
  });
});
