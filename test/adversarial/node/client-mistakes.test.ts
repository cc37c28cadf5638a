import { randomUUID } from "node:crypto";
import fs from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { containerHandlers } from "../../../agent/handlers/containers";
import { gitHandlers } from "../../../agent/handlers/git";
import type { HandlerContext, Handlers } from "../../../agent/handlers/types";
import { createDockerClient } from "../../../agent/runtime/docker/client";
import { gitFailure, runGit } from "../../../agent/runtime/git/command";
import type { ParamsOf } from "../../../shared/commands";
import { ERROR_STATUS, type KaiError } from "../../../shared/errors";
import { busyboxImage } from "../../support/busybox-image";
import { gitAs } from "../../support/git-identity";
import { setupOrFail } from "../../support/setup-or-fail";
import { call, kaiError, type WorkspaceWorld, workspaceWorld } from "../../support/workspace-handlers";

/**
 * Issue 10, point 9 (agent side): mistakes of the client, or of the workspace's state, that
 * git or Docker report are 4xx answers in Kai's words. Before, each was INTERNAL_ERROR (500)
 * or DOCKER_ERROR (502) carrying git's stderr, with the host's absolute paths in it.
 * Real git repositories and the real Docker engine.
 */

const author = { name: "Mistake Maker", email: "mm@kai.test" };
const savedEnv = { ...process.env };
let world: WorkspaceWorld;
let root: string;

const sh = (cwd: string, ...args: string[]): string => gitAs({ name: "Set Up", email: "s@kai.test" }, cwd, ...args);

const run = <O extends keyof Handlers & `git.${string}`>(
  op: O,
  params: Omit<Parameters<Handlers[O]>[0], "root">,
  at = root,
) => call(gitHandlers, op, { root: at, ...params } as Parameters<Handlers[O]>[0], world.ctx());
const commitPaths = (paths: string[], message = "a change") =>
  run("git.commit", { message, paths, all: false, author });

/** A 4xx whose message and details hold neither the host's paths nor git's own words. */
function expectClientError(error: KaiError, code: string): void {
  expect(error.code).toBe(code);
  expect(ERROR_STATUS[error.code]).toBeGreaterThanOrEqual(400);
  expect(ERROR_STATUS[error.code]).toBeLessThan(500);
  const shown = JSON.stringify({ message: error.message, details: error.details ?? {} });
  expect(shown).not.toContain(world.tmp);
  expect(shown).not.toMatch(/fatal:|error:|hint:|pathspec '/);
}

beforeAll(async () => {
  world = await workspaceWorld("mistakes");
  root = world.root;
  const globalConfig = path.join(world.tmp, "gitconfig");
  await fs.writeFile(globalConfig, "[user]\n\tuseConfigOnly = true\n");
  process.env.GIT_CONFIG_GLOBAL = globalConfig;
  process.env.GIT_CONFIG_NOSYSTEM = "1";
  sh(root, "init", "-q", "-b", "main");
  await fs.writeFile(path.join(root, "a.txt"), "a\n");
  await fs.mkdir(path.join(root, "real"));
  await fs.writeFile(path.join(root, "real", "inside.txt"), "inside\n");
  await fs.writeFile(path.join(world.outside, "secret.txt"), "host\n");
  await fs.symlink("real", path.join(root, "link"));
  await fs.symlink(world.outside, path.join(root, "away"));
  sh(root, "add", "a.txt");
  sh(root, "commit", "-q", "-m", "first");
});

afterAll(async () => {
  process.env = savedEnv;
  await world?.cleanup();
});

describe("git commit: paths git cannot stage", () => {
  it("a path beyond a symlink inside the workspace is VALIDATION_ERROR naming the path as sent", async () => {
    const error = await kaiError(commitPaths(["link/inside.txt"]));
    expectClientError(error, "VALIDATION_ERROR");
    expect(error.message).toBe(
      "link/inside.txt goes through a symbolic link; git can commit the link itself, not paths beyond it",
    );
    expect(error.details).toEqual({ path: "link/inside.txt" });
  });

  it("names the path as the client wrote it, not as git normalised it", async () => {
    const error = await kaiError(commitPaths(["./link//inside.txt"]));
    expectClientError(error, "VALIDATION_ERROR");
    expect(error.message).toContain("./link//inside.txt goes through a symbolic link");
  });

  it("a path beyond a symlink that leads out of the workspace is VALIDATION_ERROR too", async () => {
    const error = await kaiError(commitPaths(["away/secret.txt"]));
    expectClientError(error, "VALIDATION_ERROR");
    expect(error.message).toContain("away/secret.txt");
  });

  it("a path with .. out of the workspace stays PERMISSION_DENIED, named as sent, before git runs", async () => {
    const error = await kaiError(commitPaths(["real/../../x"]));
    expectClientError(error, "PERMISSION_DENIED");
    expect(error.message).toBe("real/../../x is outside the workspace");
  });

  it("git's own 'outside repository' refusal is VALIDATION_ERROR without the repository's host path", async () => {
    const refused = await runGit(root, ["add", "--all", "--", "../elsewhere.txt"]);
    expect(refused.stderr).toContain(root); // git names the host path...
    const error = gitFailure(refused, "add", false, new Map([["../elsewhere.txt", "../elsewhere.txt"]]));
    expectClientError(error, "VALIDATION_ERROR"); // ...Kai does not
    expect(error.message).toBe("../elsewhere.txt is outside the workspace's repository");
  });

  it("a path that matches nothing is NOT_FOUND, without git's words", async () => {
    const error = await kaiError(commitPaths(["no/such file.txt"]));
    expectClientError(error, "NOT_FOUND");
    expect(error.message).toBe(
      "no/such file.txt is neither in the workspace nor tracked by git; check the path (it is relative to the workspace)",
    );
  });

  it("a path inside a nested repository without a commit is VALIDATION_ERROR", async () => {
    const nested = path.join(root, "nested");
    await fs.mkdir(nested);
    sh(nested, "init", "-q", "-b", "main");
    await fs.writeFile(path.join(nested, "n.txt"), "n\n");
    try {
      const error = await kaiError(commitPaths(["nested"]));
      expectClientError(error, "VALIDATION_ERROR");
      expect(error.message).toContain("nested is a nested git repository");
    } finally {
      await fs.rm(nested, { recursive: true, force: true });
    }
  });

  it("ignored paths are VALIDATION_ERROR naming them", async () => {
    await fs.writeFile(path.join(root, ".gitignore"), "*.log\n");
    await fs.writeFile(path.join(root, "build.log"), "log\n");
    try {
      const error = await kaiError(commitPaths(["build.log"]));
      expectClientError(error, "VALIDATION_ERROR");
      expect(error.message).toContain("build.log is ignored by .gitignore");
    } finally {
      await fs.rm(path.join(root, ".gitignore"));
      await fs.rm(path.join(root, "build.log"));
      sh(root, "reset", "-q");
    }
  });

  it("a message that is only blank lines is VALIDATION_ERROR", async () => {
    await fs.writeFile(path.join(root, "a.txt"), "a2\n");
    const error = await kaiError(commitPaths(["a.txt"], "  \n\n"));
    expectClientError(error, "VALIDATION_ERROR");
    expect(error.message).toContain("commit message is empty");
    sh(root, "checkout", "-q", "--", "a.txt");
    sh(root, "reset", "-q");
  });

  it("a lock left by another git is CONFLICT, without the host's path", async () => {
    await fs.writeFile(path.join(root, "a.txt"), "a3\n");
    const lock = path.join(root, ".git", "index.lock");
    await fs.writeFile(lock, "");
    try {
      const error = await kaiError(commitPaths(["a.txt"]));
      expectClientError(error, "CONFLICT");
      expect(error.message).toContain("another git command is running");
    } finally {
      await fs.rm(lock, { force: true });
      sh(root, "checkout", "-q", "--", "a.txt");
    }
  });
});

describe("git: a workspace in the middle of a merge, and other branch mistakes", () => {
  let bare: string;

  beforeAll(async () => {
    bare = path.join(world.tmp, "origin.git");
    sh(world.tmp, "init", "-q", "--bare", "-b", "main", bare);
    sh(root, "remote", "add", "origin", bare);
    sh(root, "push", "-q", "-u", "origin", "main");
  });

  it("pulling a branch with no shared history is CONFLICT", async () => {
    const stranger = path.join(world.tmp, "stranger");
    sh(world.tmp, "init", "-q", "-b", "main", stranger);
    await fs.writeFile(path.join(stranger, "s.txt"), "s\n");
    sh(stranger, "add", "s.txt");
    sh(stranger, "commit", "-q", "-m", "unrelated");
    sh(root, "remote", "add", "stranger", stranger);
    const error = await kaiError(run("git.pull", { remote: "stranger", branch: "main", author }));
    expectClientError(error, "CONFLICT");
    expect(error.message).toContain("no history");
    expect(sh(root, "status", "--porcelain", "--untracked-files=no")).toBe("");
  });

  it("a branch that exists on two remotes is VALIDATION_ERROR, not a 500", async () => {
    sh(root, "push", "-q", "origin", "main:refs/heads/twice");
    sh(root, "push", "-q", "stranger", "main:refs/heads/twice");
    sh(root, "fetch", "-q", "origin");
    sh(root, "fetch", "-q", "stranger");
    const error = await kaiError(run("git.checkout", { branch: "twice", create: false }));
    expectClientError(error, "VALIDATION_ERROR");
    expect(error.message).toContain("pass create");
  });

  it("switching branch or committing some paths during a merge is CONFLICT", async () => {
    sh(root, "switch", "-q", "-c", "side");
    await fs.writeFile(path.join(root, "a.txt"), "side\n");
    sh(root, "commit", "-q", "-am", "side");
    sh(root, "switch", "-q", "main");
    await fs.writeFile(path.join(root, "a.txt"), "main\n");
    sh(root, "commit", "-q", "-am", "main");
    expect(() => sh(root, "merge", "side")).toThrow();
    try {
      const switching = await kaiError(run("git.checkout", { branch: "side", create: false }));
      expectClientError(switching, "CONFLICT");
      expect(switching.message).toContain("a merge is in progress");
      await fs.writeFile(path.join(root, "a.txt"), "resolved\n");
      const partial = await kaiError(commitPaths(["a.txt"]));
      expectClientError(partial, "CONFLICT");
      expect(partial.message).toContain("a merge is in progress");
    } finally {
      sh(root, "merge", "--abort");
    }
  });
});

describe("container.create: containerPath and image mistakes (real engine)", () => {
  const docker = createDockerClient();
  const hostId = `agentcodes-mistakes-${randomUUID().slice(0, 8)}`;
  let image: string;
  const setup = setupOrFail(async () => {
    image = await busyboxImage(docker);
  });
  const ctx = (): HandlerContext => world.ctx({ docker, hostId });
  const create = (overrides: Partial<ParamsOf<"container.create">>) =>
    call(
      containerHandlers,
      "container.create",
      {
        name: `agentcodes-${randomUUID().slice(0, 8)}`,
        image,
        hostPath: root,
        containerPath: "/workspace",
        env: {},
        ...overrides,
      },
      ctx(),
    );

  async function ours(): Promise<string[]> {
    const found = await docker.listContainers({ all: true, filters: { label: [`kai.host=${hostId}`] } });
    return found.map((info) => info.Id);
  }

  afterEach(async () => {
    if (!setup.ready) return;
    for (const id of await ours()) await docker.getContainer(id).remove({ force: true, v: true });
  });

  it("containerPath / is VALIDATION_ERROR and reaches no engine", async () => {
    const error = await kaiError(create({ containerPath: "/" }));
    expect(error.code).toBe("VALIDATION_ERROR");
    expect(error.message).toContain("cannot be /");
    expect(error.details).toMatchObject({ fields: { containerPath: [expect.any(String)] } });
    expect(await ours()).toEqual([]);
  });

  it.each([
    "/proc",
    "/proc/self/x",
    "/dev",
    "/sys/fs",
    "/etc/hosts",
    "/etc/resolv.conf",
    "/work/../etc",
    "/work/./x",
    "/work//x",
    "/work/",
    "/bad\u0001name",
  ])("containerPath %j is VALIDATION_ERROR and creates nothing", async (containerPath) => {
    const error = await kaiError(create({ containerPath }));
    expect(error.code).toBe("VALIDATION_ERROR");
    expect(error.message).toContain("containerPath");
    expect(await ours()).toEqual([]);
  });

  it("an ordinary containerPath still works", async () => {
    const created = await create({ containerPath: "/srv/work-space" });
    expect(created.containerPath).toBe("/srv/work-space");
  });

  it("an image not on this host is VALIDATION_ERROR (400) saying how to get it", async () => {
    const missing = `agentcodes-missing-${randomUUID().slice(0, 8)}:never`;
    const error = await kaiError(create({ image: missing }));
    expect(error.code).toBe("VALIDATION_ERROR");
    expect(ERROR_STATUS[error.code]).toBe(400);
    expect(error.message).toContain(`image ${missing} is not on this host`);
    expect(error.message).toContain(`docker pull ${missing}`);
    expect(error.message).toContain("docker images");
    expect(await ours()).toEqual([]);
  });

  it("an image reference Docker cannot parse is VALIDATION_ERROR", async () => {
    const error = await kaiError(create({ image: "Agentcodes-Upper:x" }));
    expect(error.code).toBe("VALIDATION_ERROR");
    expect(error.message).toContain("invalid reference format");
  });

  it("starting on a host port something else holds is CONFLICT, not DOCKER_ERROR", async () => {
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(0, "127.0.0.1", resolve));
    const port = (holder.address() as net.AddressInfo).port;
    try {
      const created = await create({ ports: [{ containerPort: 80, hostPort: port }] });
      const error = await kaiError(call(containerHandlers, "container.start", { id: created.id }, ctx()));
      expect(error.code).toBe("CONFLICT");
      expect(error.message).toContain(`host port ${port} is already in use`);
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  });

  it("starting after its host directory was removed is VALIDATION_ERROR", async () => {
    const hostPath = path.join(root, "gone-later");
    await fs.mkdir(hostPath);
    const created = await create({ hostPath });
    await fs.rmdir(hostPath);
    const error = await kaiError(call(containerHandlers, "container.start", { id: created.id }, ctx()));
    expect(error.code).toBe("VALIDATION_ERROR");
    expect(error.message).toContain("bind source path does not exist");
  });

  it("an engine that cannot be reached is still DOCKER_ERROR", async () => {
    const error = await kaiError(
      call(
        containerHandlers,
        "container.create",
        { name: "agentcodes-unreached", image: "busybox:latest", hostPath: root, containerPath: "/workspace", env: {} },
        world.ctx({ hostId }),
      ),
    );
    expect(error.code).toBe("DOCKER_ERROR");
  });
});
