import { randomUUID } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { handlers } from "../../agent/handlers";
import type { HandlerContext } from "../../agent/handlers/types";
import type { Policy } from "../../agent/policy";
import { AgentSessions } from "../../agent/runtime/acp/agent-sessions";
import { createDockerClient } from "../../agent/runtime/docker/client";
import { LiveStats } from "../../agent/runtime/docker/live-stats";
import type { ResultOf } from "../../shared/command-replies";
import type { Op, ParamsOf } from "../../shared/commands";
import { kaiError } from "../support/service-world";
import { call as checkedCall } from "../support/workspace-handlers";

/**
 * directory.list and path.check on real temp directories. The allowed root is a temp dir,
 * never the real home; everything escaping it is built next to it on purpose.
 */

let tmp: string;
let root: string;
let other: string;
let policy: Policy;

function ctx(overrides: Partial<Policy> = {}): HandlerContext {
  // Unused by these handlers; a client to a socket that is never dialled.
  const docker = createDockerClient({ socketPath: path.join(os.tmpdir(), "kai-unused.sock") });
  return {
    requestId: randomUUID(),
    hostId: "test-host",
    policy: { ...policy, ...overrides },
    docker,
    liveStats: new LiveStats(docker),
    agentSessions: new AgentSessions({ profiles: [] }),
    signal: new AbortController().signal,
    emit: () => undefined,
  };
}

function call<O extends Op>(op: O, params: ParamsOf<O>, context: HandlerContext = ctx()): Promise<ResultOf<O>> {
  return checkedCall(handlers, op, params, context);
}

beforeAll(async () => {
  tmp = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), "kai-dirs-")));
  root = path.join(tmp, "root");
  other = path.join(tmp, "other-root");
  await fs.mkdir(path.join(root, "src", "deep"), { recursive: true });
  await fs.mkdir(path.join(root, ".config"));
  await fs.mkdir(path.join(root, "Docs"));
  await fs.mkdir(other);
  await fs.mkdir(`${root}-evil`);
  await fs.writeFile(path.join(`${root}-evil`, "secret.txt"), "not yours");
  await fs.writeFile(path.join(root, "README.md"), "# readme\n");
  await fs.writeFile(path.join(root, ".env"), "A=1\n");
  await fs.writeFile(path.join(root, "empty.txt"), "");
  await fs.writeFile(path.join(root, "data.bin"), Buffer.alloc(12_345));
  await fs.writeFile(path.join(other, "shared.txt"), "shared");
  // Symlinks that stay inside.
  await fs.symlink(path.join(root, "src"), path.join(root, "src-link"));
  await fs.symlink("README.md", path.join(root, "readme-link"));
  await fs.symlink(other, path.join(root, "to-other-root"));
  // Symlinks that escape.
  await fs.symlink("/", path.join(root, "to-slash"));
  await fs.symlink("/etc", path.join(root, "to-etc"));
  await fs.symlink(path.join(root, "chain-2"), path.join(root, "chain-1"));
  await fs.symlink("../..", path.join(root, "chain-2"));
  await fs.symlink(`${root}-evil`, path.join(root, "to-evil"));
  await fs.symlink("/nonexistent-kai-target", path.join(root, "dangling"));
  await fs.symlink(path.join(root, "loop-b"), path.join(root, "loop-a"));
  await fs.symlink(path.join(root, "loop-a"), path.join(root, "loop-b"));
  policy = { allowedRoots: [root], maxDirectoryEntries: 1000 };
});

afterAll(async () => {
  if (tmp) await fs.rm(tmp, { recursive: true, force: true });
});

describe("directory.list", () => {
  it("lists directories then files, hidden entries included, with sizes and times", async () => {
    const listing = await call("directory.list", { path: root });
    expect(listing.path).toBe(root);
    expect(listing.truncated).toBe(false);
    expect(listing.directories.map((entry) => entry.name)).toEqual([".config", "Docs", "src", "src-link"]);
    expect(listing.files.map((entry) => entry.name)).toEqual([
      ".env",
      "data.bin",
      "empty.txt",
      "readme-link",
      "README.md",
    ]);
    expect(listing.files.find((entry) => entry.name === "data.bin")).toMatchObject({
      path: path.join(root, "data.bin"),
      size: 12_345,
    });
    expect(listing.files.find((entry) => entry.name === "empty.txt")?.size).toBe(0);
    expect(listing.files.find((entry) => entry.name === ".env")?.size).toBe(4);
    // A symlink is shown at its own path, with its target's kind and size.
    expect(listing.directories.find((entry) => entry.name === "src-link")?.path).toBe(path.join(root, "src-link"));
    expect(listing.files.find((entry) => entry.name === "readme-link")?.size).toBe(9);
    const modified = Date.parse(listing.directories[0]!.modified);
    expect(Math.abs(modified - Date.now())).toBeLessThan(60_000);
  });

  it("leaves out symlinks that escape the roots, broken ones and loops", async () => {
    const listing = await call("directory.list", { path: root });
    const names = [...listing.directories, ...listing.files].map((entry) => entry.name);
    for (const escaping of [
      "to-slash",
      "to-etc",
      "chain-1",
      "chain-2",
      "to-evil",
      "dangling",
      "loop-a",
      "loop-b",
      "to-other-root",
    ]) {
      expect(names).not.toContain(escaping);
    }
  });

  it("shows a symlink into another allowed root", async () => {
    const listing = await call("directory.list", { path: root }, ctx({ allowedRoots: [root, other] }));
    expect(listing.directories.map((entry) => entry.name)).toContain("to-other-root");
  });

  it("defaults to the first allowed root", async () => {
    const listing = await call("directory.list", {});
    expect(listing.path).toBe(root);
  });

  it("answers the real path when listing through a symlink inside the root", async () => {
    const listing = await call("directory.list", { path: path.join(root, "src-link") });
    expect(listing.path).toBe(path.join(root, "src"));
    expect(listing.directories).toEqual([
      expect.objectContaining({ name: "deep", path: path.join(root, "src", "deep") }),
    ]);
  });

  it("answers VALIDATION_ERROR for a missing directory and for a file", async () => {
    const missing = await kaiError(call("directory.list", { path: path.join(root, "nope") }));
    expect(missing.code).toBe("VALIDATION_ERROR");
    expect(missing.message).toContain("no such directory");
    expect((await kaiError(call("directory.list", { path: path.join(root, "README.md") }))).code).toBe(
      "VALIDATION_ERROR",
    );
  });

  it("caps a huge directory at maxDirectoryEntries and says it was truncated", async () => {
    const big = path.join(root, "big");
    await fs.mkdir(big);
    await Promise.all(
      Array.from({ length: 5000 }, (_, i) => fs.writeFile(path.join(big, `file-${i}.txt`), "x".repeat(i % 7))),
    );
    await fs.mkdir(path.join(big, "a-subdir"));

    const capped = await call("directory.list", { path: big }, ctx({ maxDirectoryEntries: 100 }));
    expect(capped.truncated).toBe(true);
    expect(capped.directories.length + capped.files.length).toBe(100);

    const whole = await call("directory.list", { path: big }, ctx({ maxDirectoryEntries: 10_000 }));
    expect(whole.truncated).toBe(false);
    expect(whole.files).toHaveLength(5000);
    expect(whole.directories.map((entry) => entry.name)).toEqual(["a-subdir"]);
    // Natural order: file-2 before file-10.
    expect(whole.files.slice(0, 3).map((entry) => entry.name)).toEqual(["file-0.txt", "file-1.txt", "file-2.txt"]);
    expect(whole.files.find((entry) => entry.name === "file-13.txt")?.size).toBe(6);

    // Exactly at the cap is not truncated.
    const exact = await call("directory.list", { path: big }, ctx({ maxDirectoryEntries: 5001 }));
    expect(exact.truncated).toBe(false);
    await fs.rm(big, { recursive: true });
  });

  it("does not count left-out symlinks against the cap", async () => {
    const dir = path.join(root, "capped");
    await fs.mkdir(dir);
    await fs.writeFile(path.join(dir, "one.txt"), "1");
    await fs.writeFile(path.join(dir, "two.txt"), "2");
    await fs.symlink("/etc", path.join(dir, "escape"));
    const listing = await call("directory.list", { path: dir }, ctx({ maxDirectoryEntries: 2 }));
    expect(listing).toMatchObject({ truncated: false, files: [{ name: "one.txt" }, { name: "two.txt" }] });
    await fs.rm(dir, { recursive: true });
  });
});

describe("paths outside the allowed roots are refused", () => {
  const corpus = (): Array<[string, string]> => [
    ["/etc", "/etc"],
    ["/", "/"],
    ["the root's parent", `${root}/..`],
    ["a .. escape", `${root}/src/../../..`],
    ["a .. escape through a missing directory", `${root}/missing/../../other-root`],
    ["a sibling with a shared prefix", `${root}-evil`],
    ["a symlink to /", path.join(root, "to-slash")],
    ["a path below a symlink to /", path.join(root, "to-slash", "etc")],
    ["a symlink to /etc", path.join(root, "to-etc")],
    ["a symlink chain escaping", path.join(root, "chain-1")],
    ["a symlink to the prefix sibling", path.join(root, "to-evil")],
    ["a dangling symlink pointing outside", path.join(root, "dangling")],
    ["a path below a dangling symlink", path.join(root, "dangling", "new")],
    ["a symlink loop", path.join(root, "loop-a")],
    ["another root not in this policy", other],
  ];

  it("in directory.list and path.check, with PERMISSION_DENIED naming the allowed roots", async () => {
    for (const [what, requested] of corpus()) {
      for (const op of ["directory.list", "path.check"] as const) {
        const error = await kaiError(call(op, { path: requested }));
        expect(error.code, `${op} ${what}`).toBe("PERMISSION_DENIED");
        expect(error.message, `${op} ${what}`).toContain(root);
      }
    }
  });

  it("refuses relative paths and NUL bytes even when the schema is bypassed", async () => {
    for (const requested of ["relative/path", "..", `${root}/a\0b`]) {
      const error = await kaiError(handlers["directory.list"]({ path: requested }, ctx()));
      expect(error.code).toBe("PERMISSION_DENIED");
    }
  });
});

describe("path.check", () => {
  it("answers the real path of a directory inside the root", async () => {
    expect(await call("path.check", { path: root })).toEqual({ path: root, isDirectory: true });
    expect(await call("path.check", { path: `${root}/src/deep/..` })).toEqual({
      path: path.join(root, "src"),
      isDirectory: true,
    });
    expect(await call("path.check", { path: path.join(root, "src-link", "deep") })).toEqual({
      path: path.join(root, "src", "deep"),
      isDirectory: true,
    });
  });

  it("answers VALIDATION_ERROR for a missing path or a file", async () => {
    const missing = await kaiError(call("path.check", { path: path.join(root, "does-not-exist") }));
    expect(missing).toMatchObject({
      code: "VALIDATION_ERROR",
      message: `no such directory: ${path.join(root, "does-not-exist")}`,
    });
    const file = await kaiError(call("path.check", { path: path.join(root, "README.md") }));
    expect(file.code).toBe("VALIDATION_ERROR");
    expect(file.message).toContain("not a directory");
  });
});
