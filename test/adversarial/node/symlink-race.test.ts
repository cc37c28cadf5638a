import { randomUUID } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { directoryHandlers } from "../../../agent/handlers/directories";
import { fileHandlers } from "../../../agent/handlers/files";
import { scriptHandlers } from "../../../agent/handlers/scripts";
import { settingsHandlers } from "../../../agent/handlers/settings";
import { isInsideRoot } from "../../../agent/policy";
import { KaiError } from "../../../shared/errors";
import { startSwapper } from "../../support/symlink-swapper";
import { until } from "../../support/until";
import { call, type WorkspaceWorld, workspaceWorld, writeExecutable } from "../../support/workspace-handlers";

/**
 * The symlink race of issue 10: a process that can write in the workspace (a coding agent
 * in a container with it bind-mounted) swaps a folder for a symlink to a folder outside the
 * allowed roots and back, as fast as it can, while the API reads, lists, uploads, deletes,
 * reads and writes settings and lists scripts. A real child process does the swapping; the
 * handlers are called directly, a bounded number of times. Zero escapes are allowed: no
 * answer holds anything from outside, nothing outside is created, changed or deleted, and
 * every refusal is a 4xx Kai error, never INTERNAL_ERROR.
 */

const ROUNDS = 250; // three reads a round: 750 reads, as in the probe
/** On a loaded machine the rounds stop early after this long: the race is bounded in time too. */
const BUDGET_MS = 20_000;
const SECRET = "TOP-SECRET-outside-the-roots";
const ALLOWED_CODES = new Set(["PERMISSION_DENIED", "NOT_FOUND", "CONFLICT"]);

let world: WorkspaceWorld;
let root: string;
let target: string;

beforeAll(async () => {
  world = await workspaceWorld("symlink-race");
  root = world.root;
  // Inside: the folders the attacker swaps, with harmless content.
  target = path.join(world.outside, "target");
  for (const [base, data] of [
    [path.join(root, "swap"), "inside"],
    [target, SECRET],
  ] as const) {
    await fs.mkdir(base, { recursive: true });
    await fs.writeFile(path.join(base, "data.txt"), data);
    for (let round = 0; round < ROUNDS; round++) {
      await fs.writeFile(path.join(base, `victim-${round}.txt`), data);
      await fs.mkdir(path.join(base, `tree-${round}`, "inner"), { recursive: true });
      await fs.writeFile(path.join(base, `tree-${round}`, "inner", "leaf.txt"), data);
    }
  }
  // Listings look at a small folder below the swapped one, the same on both sides but for one name.
  for (const base of [path.join(root, "swap"), target]) {
    await fs.mkdir(path.join(base, "small"));
    await fs.writeFile(path.join(base, "small", "a.txt"), "a");
    await fs.symlink("a.txt", path.join(base, "small", "a-link"));
  }
  await fs.writeFile(path.join(target, "small", "outside-only.txt"), SECRET);
  await fs.writeFile(path.join(target, "outside-only-top.txt"), SECRET);
  await fs.mkdir(path.join(root, ".claude"));
  await fs.writeFile(path.join(root, ".claude", "settings.json"), JSON.stringify({ model: "inside" }));
  await fs.mkdir(path.join(world.outside, "claude"));
  await fs.writeFile(
    path.join(world.outside, "claude", "settings.json"),
    JSON.stringify({ secret: SECRET, hooks: { Stop: [{ secret: SECRET }] } }),
  );
  await writeExecutable(path.join(root, ".kai", "scripts", "good"), "#!/bin/sh\necho good\n");
  await writeExecutable(path.join(world.outside, "kai", "scripts", "evil-outside"), "#!/bin/sh\necho evil\n");
});

afterAll(async () => {
  await world?.cleanup();
});

/** Every file and folder below `dir` with its content (links as their target), for before/after comparison. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await fs.readdir(dir, { recursive: true, withFileTypes: true })) {
    const full = path.join(entry.parentPath, entry.name);
    const key = path.relative(dir, full);
    if (entry.isSymbolicLink()) out[key] = `-> ${await fs.readlink(full)}`;
    else if (entry.isFile()) out[key] = await fs.readFile(full, "utf8");
    else out[key] = entry.isDirectory() ? "dir" : "other";
  }
  return out;
}

describe("a folder swapped for a symlink in a loop, while the API works in it", () => {
  it("never lets a read, listing, upload, delete, settings or scripts call reach outside the roots", async () => {
    const outsideBefore = await snapshot(world.outside);
    const stop = path.join(world.tmp, "stop-swapping");
    const swapper = startSwapper(
      [
        [path.join(root, "swap"), target],
        [path.join(root, ".claude"), path.join(world.outside, "claude")],
        [path.join(root, ".kai"), path.join(world.outside, "kai")],
      ],
      stop,
    );
    const exited = new Promise<number | null>((resolve) => swapper.child.on("exit", (code) => resolve(code)));
    const escapes: string[] = [];
    const unexpected: string[] = [];
    const outcomes: Record<string, number> = {};
    const ctx = world.ctx();

    /** Runs one call; a refusal must be one of the 4xx codes a race can honestly cause. */
    async function attempt<T>(op: string, run: () => Promise<T>, check: (result: T) => void): Promise<void> {
      try {
        const result = await run();
        outcomes[`${op} ok`] = (outcomes[`${op} ok`] ?? 0) + 1;
        check(result);
      } catch (error) {
        const code = error instanceof KaiError ? error.code : "not a KaiError";
        outcomes[`${op} ${code}`] = (outcomes[`${op} ${code}`] ?? 0) + 1;
        // directory.list and path.check answer a missing path with VALIDATION_ERROR (their contract).
        const missing =
          op.startsWith("directory.list") || op.startsWith("path.check")
            ? code === "VALIDATION_ERROR" && /^no such directory/.test((error as Error).message)
            : false;
        if (!ALLOWED_CODES.has(code) && !missing)
          unexpected.push(`${op}: ${code}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    /** A success must name a file in the workspace. */
    const inWorkspace = (op: string, relative: string) => {
      if (relative === ".." || relative.startsWith("../") || path.isAbsolute(relative))
        escapes.push(`${op} answered the path ${relative}`);
    };
    const leaks = (op: string, value: unknown) => {
      if (
        JSON.stringify(value).includes(SECRET) ||
        JSON.stringify(value).includes("outside-only") ||
        JSON.stringify(value).includes("evil-outside")
      ) {
        escapes.push(`${op} answered ${JSON.stringify(value).slice(0, 200)}`);
      }
    };

    try {
      await until(() => swapper.output().includes("started"), 10_000, "the swapper to start");
      const started = Date.now();
      for (let round = 0; round < ROUNDS && Date.now() - started < BUDGET_MS; round++) {
        for (let i = 0; i < 3; i++) {
          await attempt(
            "files.read",
            () => call(fileHandlers, "files.read", { root, path: "swap/data.txt", offset: 0, length: 1024 }, ctx),
            (answer) => {
              inWorkspace("files.read", answer.path);
              leaks("files.read", Buffer.from(answer.data, "base64").toString());
            },
          );
        }
        await attempt(
          "files.list",
          () =>
            call(
              fileHandlers,
              "files.list",
              { root, path: round % 10 === 0 ? "swap" : "swap/small", hidden: true },
              ctx,
            ),
          (answer) => {
            inWorkspace("files.list", answer.path);
            leaks("files.list", answer);
          },
        );
        await attempt(
          "files.write",
          () =>
            call(
              fileHandlers,
              "files.write",
              {
                root,
                path: `swap/upload-${round}.txt`,
                uploadId: randomUUID(),
                index: 0,
                data: "aW5zaWRl",
                last: true,
                createParents: false,
              },
              ctx,
            ),
          (answer) => inWorkspace("files.write", answer.path),
        );
        const uploadId = randomUUID();
        await attempt(
          "files.write (chunked)",
          async () => {
            await call(
              fileHandlers,
              "files.write",
              {
                root,
                path: `swap/chunked-${round}.txt`,
                uploadId,
                index: 0,
                data: "aW5z",
                last: false,
                createParents: false,
              },
              ctx,
            );
            return call(
              fileHandlers,
              "files.write",
              {
                root,
                path: `swap/chunked-${round}.txt`,
                uploadId,
                index: 1,
                data: "aWRl",
                last: true,
                createParents: false,
              },
              ctx,
            );
          },
          (answer) => inWorkspace("files.write", answer.path),
        );
        await attempt(
          "files.delete",
          () => call(fileHandlers, "files.delete", { root, path: `swap/victim-${round}.txt`, recursive: false }, ctx),
          (answer) => inWorkspace("files.delete", answer.path),
        );
        await attempt(
          "files.delete (recursive)",
          () => call(fileHandlers, "files.delete", { root, path: `swap/tree-${round}`, recursive: true }, ctx),
          (answer) => inWorkspace("files.delete", answer.path),
        );
        await attempt(
          "settings.read",
          () => call(settingsHandlers, "settings.read", { root, section: "settings" }, ctx),
          (answer) => leaks("settings.read", answer),
        );
        await attempt(
          "settings.write",
          () =>
            call(
              settingsHandlers,
              "settings.write",
              {
                root,
                section: round % 2 === 0 ? "hooks" : "settings",
                value: round % 2 === 0 ? { Stop: [] } : { model: `m${round}` },
              },
              ctx,
            ),
          () => undefined,
        );
        await attempt(
          "scripts.list",
          () => call(scriptHandlers, "scripts.list", { root }, ctx),
          (answer) => leaks("scripts.list", answer),
        );
        await attempt(
          "directory.list",
          () => call(directoryHandlers, "directory.list", { path: path.join(root, "swap", "small") }, ctx),
          (answer) => {
            leaks("directory.list", answer);
            if (!isInsideRoot(root, answer.path)) escapes.push(`directory.list answered ${answer.path}`);
          },
        );
        await attempt(
          "path.check",
          () => call(directoryHandlers, "path.check", { path: path.join(root, "swap") }, ctx),
          (answer) => {
            if (!isInsideRoot(root, answer.path)) escapes.push(`path.check answered ${answer.path}`);
          },
        );
      }
    } finally {
      await fs.writeFile(stop, "");
      if (
        (await Promise.race([exited, new Promise((resolve) => setTimeout(() => resolve("late"), 10_000))])) === "late"
      )
        swapper.child.kill("SIGKILL");
      await exited;
    }

    const reads = Object.entries(outcomes)
      .filter(([key]) => key.startsWith("files.read "))
      .reduce((sum, [, count]) => sum + count, 0);
    console.info(
      `symlink race: ${swapper.output().trim().split("\n").pop()}; ${reads} reads; outcomes ${JSON.stringify(outcomes)}`,
    );
    // The race was really run.
    expect(Number(/swaps (\d+)/.exec(swapper.output())?.[1] ?? 0)).toBeGreaterThan(0);
    // Nothing outside was created (no upload or temp file, no settings), changed or deleted.
    const outsideAfter = await snapshot(world.outside);
    const outsideChanges = [...new Set([...Object.keys(outsideBefore), ...Object.keys(outsideAfter)])]
      .filter((key) => outsideBefore[key] !== outsideAfter[key])
      .map((key) =>
        outsideAfter[key] === undefined
          ? `deleted ${key}`
          : outsideBefore[key] === undefined
            ? `created ${key}`
            : `changed ${key}`,
      )
      .sort();
    // And nothing appeared next to the roots either.
    const besideRoots = (await fs.readdir(world.tmp)).filter(
      (name) => !["outside", "stop-swapping", "workspace"].includes(name),
    );
    expect({ escapes, unexpected, outsideChanges, besideRoots }).toEqual({
      escapes: [],
      unexpected: [],
      outsideChanges: [],
      besideRoots: [],
    });
  }, 120_000);
});
