import { execFile } from "node:child_process";
import { constants } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import path from "node:path";
import type { ResultOf } from "../../shared/command-replies";
import { deadlineOf, type ParamsOf } from "../../shared/commands";
import { KaiError } from "../../shared/errors";
import { requireScriptsAllowed } from "../policy";
import {
  type Found,
  locate,
  locateExisting,
  readFolder,
  reopen,
  type Workspace,
  withWorkspace,
} from "../runtime/fs/confined-fs";
import { errnoCode } from "../runtime/fs/errors";
import { countTasks } from "../runtime/fs/openspec-tasks";
import { workspaceRoot } from "../runtime/fs/workspace-paths";
import { childEnv } from "../runtime/process/child-env";
import { runProcessGroup } from "../runtime/process/run-process-group";
import type { Handler, Handlers } from "./types";

/**
 * `openspec.state`: the workspace's `openspec/` folder as OpenSpec lays it out —
 * `specs/<name>/spec.md`, active changes in `changes/<name>/` (progress from their
 * tasks.md), archived ones in `changes/archive/<name>/` — and the workflow actions that
 * can run. Actions run through the OpenSpec CLI, so none is offered where it is not
 * installed. Only real directories are listed; an `openspec/` leading out of the workspace
 * is refused, and a folder or file below it that leads out is not read.
 *
 * Every read walks from the workspace root's verified handle (runtime/confined-fs.ts),
 * never by an absolute path: a process that can write in the workspace may swap
 * `openspec/` or a change's folder for a symlink at any moment, and a path checked a
 * moment before would then lead to files outside the allowed roots.
 */
const state: Handler<"openspec.state"> = (params, ctx) =>
  withWorkspace(ctx.policy, params.root, async (workspace) => {
    const [cliAvailable, initialized] = await Promise.all([
      openspecCli(workspace.real, ctx.signal),
      isFolder(workspace, "openspec"),
    ]);
    // Actions are offered only where they can run: the CLI is installed and the policy lets it.
    const runnable = cliAvailable && ctx.policy.scripts !== false;
    if (!initialized)
      return { initialized, cliAvailable, specs: [], changes: [], archived: [], actions: runnable ? ["init"] : [] };

    const specs: Array<{ name: string; path: string }> = [];
    for (const name of await subdirectories(workspace, "openspec/specs")) {
      const spec = `openspec/specs/${name}/spec.md`;
      if ((await readConfined(workspace, spec)) !== null) specs.push({ name, path: spec });
    }
    const changes: ResultOf<"openspec.state">["changes"] = [];
    for (const name of await subdirectories(workspace, "openspec/changes")) {
      if (name === "archive") continue;
      const tasks = countTasks((await readConfined(workspace, `openspec/changes/${name}/tasks.md`)) ?? "");
      // A change with no tasks has nothing to prove done, so it is not offered for archiving.
      const complete = tasks.total > 0 && tasks.done === tasks.total;
      changes.push({
        name,
        tasks,
        actions: runnable ? ["validate", "show", ...(complete ? ["archive" as const] : [])] : [],
      });
    }
    const archived = (await subdirectories(workspace, "openspec/changes/archive")).map((name) => ({ name }));
    return { initialized, cliAvailable, specs, changes, archived, actions: runnable ? ["list", "validate"] : [] };
  });

type Action = ParamsOf<"openspec.run">["action"];

/**
 * `openspec.run`: one workflow action through the OpenSpec CLI, and only one that
 * `openspec.state` offers right now (so `archive` only for a change whose tasks are all
 * done, and nothing where the CLI is not installed). The CLI runs in the workspace root as
 * its own process group, with an argument array (no shell), the agent's environment less
 * KAI_*, stdin closed, a timeout, and its output capped to the tail. A nonzero exit is an
 * answer (e.g. a change that does not validate), not an error.
 *
 * What runs is the OpenSpec CLI the host's owner installed (found on the agent's PATH,
 * absolute entries only — see childEnv — never in the workspace or its node_modules/.bin),
 * with fixed arguments. It still reads the workspace's openspec/ files by path and follows
 * their symlinks, so a `proposal.md` linked to a file outside the allowed roots would be
 * printed back: like a script, it is a program working beyond what the path policy bounds,
 * and the policy's `"scripts": false` turns it off too.
 */
const run: Handler<"openspec.run"> = async (params, ctx) => {
  requireScriptsAllowed(ctx.policy);
  const current = await state({ root: params.root }, ctx);
  if (!current.cliAvailable) throw new KaiError("CONFLICT", NOT_INSTALLED);
  const change = params.change ?? null;
  let offered = current.actions;
  if (change !== null) {
    const found = current.changes.find((candidate) => candidate.name === change);
    if (!found)
      throw new KaiError("NOT_FOUND", `this workspace has no active OpenSpec change named ${JSON.stringify(change)}`);
    offered = found.actions;
  }
  if (!offered.includes(params.action)) {
    const target = change === null ? "for the workspace" : `for the change ${JSON.stringify(change)}`;
    const why =
      params.action === "archive" && change !== null
        ? " (a change is archived once every task in its tasks.md is done)"
        : "";
    throw new KaiError(
      "CONFLICT",
      `openspec ${params.action} is not offered ${target}${why}; offered: ${offered.join(", ") || "none"}`,
    );
  }

  const output = new OutputTail(MAX_OUTPUT_BYTES);
  const result = await runProcessGroup({
    file: "openspec",
    args: cliArgs(params.action, change),
    cwd: await workspaceRoot(ctx.policy, params.root),
    // OPEN_SPEC_INTERACTIVE=0 is the CLI's own switch for "never prompt" (stdin is closed anyway).
    env: { ...childEnv(), OPEN_SPEC_INTERACTIVE: "0" },
    timeoutMs: deadlineOf("openspec.run", params),
    signal: ctx.signal,
    onOutput: (_stream, data) => output.push(data),
  }).catch((error: unknown) => {
    // Removed between the check above and the start: the same answer as never installed.
    if (error instanceof KaiError && error.code === "NOT_FOUND") throw new KaiError("CONFLICT", NOT_INSTALLED);
    throw error;
  });
  return { action: params.action, change, exitCode: result.exitCode, output: output.text(), timedOut: result.timedOut };
};

export const openspecHandlers = { "openspec.state": state, "openspec.run": run } satisfies Pick<
  Handlers,
  "openspec.state" | "openspec.run"
>;

const CLI_TIMEOUT_MS = 5_000;
const MAX_OUTPUT_BYTES = 256 * 1024;
const NOT_INSTALLED = "the OpenSpec CLI is not installed on this host; install it with npm i -g @fission-ai/openspec";

/**
 * The CLI's arguments for one action, never waiting for a human. Options come first and a
 * change name only after `--`, so it is always an operand (the name's schema also forbids a
 * leading '-'). `init --tools none` creates openspec/ without choosing AI tool integrations,
 * which only a person at a terminal can pick; `validate` of the workspace checks everything
 * (`--all`: without an item it would ask); `--type change` keeps a spec of the same name
 * out; `archive --yes` confirms what openspec.state already checked (every task done).
 */
function cliArgs(action: Action, change: string | null): string[] {
  if (change === null) {
    if (action === "init") return ["init", "--tools", "none"];
    if (action === "validate") return ["validate", "--all", "--no-interactive"];
    return [action];
  }
  if (action === "archive") return ["archive", "--yes", "--", change];
  return [action, "--type", "change", "--no-interactive", "--", change];
}

/** stdout and stderr as they arrive, keeping only the last `limit` bytes (the end says how it went). */
class OutputTail {
  private chunks: Buffer[] = [];
  private bytes = 0;
  private dropped = false;

  constructor(private readonly limit: number) {}

  push(text: string): void {
    const buffer = Buffer.from(text, "utf8");
    this.chunks.push(buffer);
    this.bytes += buffer.length;
    while (this.bytes - (this.chunks[0]?.length ?? 0) >= this.limit) {
      this.bytes -= this.chunks.shift()?.length ?? 0;
      this.dropped = true;
    }
  }

  text(): string {
    let all = Buffer.concat(this.chunks);
    if (all.length > this.limit) {
      all = all.subarray(all.length - this.limit);
      this.dropped = true;
    }
    // Cutting may split a character: skip UTF-8 continuation bytes at the start.
    let start = 0;
    if (this.dropped) while (start < all.length && start < 3 && ((all[start] ?? 0) & 0xc0) === 0x80) start++;
    return all.subarray(start).toString("utf8");
  }
}

/** True when `openspec --version` runs and succeeds (PATH lookup, no shell, KAI_* kept out). */
function openspecCli(cwd: string, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    execFile(
      "openspec",
      ["--version"],
      { cwd, env: childEnv(), timeout: CLI_TIMEOUT_MS, ...(signal ? { signal } : {}) },
      (error) => resolve(error === null),
    );
  });
}

/** A walk that ends on nothing: a missing file or folder, or a file where a folder was expected. */
function absent(error: unknown): null {
  if (error instanceof KaiError && (error.code === "NOT_FOUND" || error.code === "VALIDATION_ERROR")) return null;
  throw error;
}

/** True when `relative` is a folder (symlinks inside the workspace followed); one leading out is PERMISSION_DENIED. */
async function isFolder(workspace: Workspace, relative: string): Promise<boolean> {
  const found = await locate(workspace, relative, { follow: true }).catch(absent);
  if (found === null) return false;
  await found.close();
  return found.entry?.stats.isDirectory() ?? false;
}

/**
 * Names of the real (not symlinked) directories in `relative`, sorted; none when it does
 * not exist. Read through the folder's own handle, which the walk verified is inside.
 */
async function subdirectories(workspace: Workspace, relative: string): Promise<string[]> {
  const found = await locate(workspace, relative, { follow: true }).catch(absent);
  if (found === null) return [];
  try {
    const handle = found.entry?.handle;
    if (!handle || !found.entry?.stats.isDirectory()) return [];
    const entries = await readFolder(handle, path.join(workspace.real, found.relative));
    return entries
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name)
      .sort();
  } catch (error) {
    if (errnoCode(error) === "ENOENT" || errnoCode(error) === "ENOTDIR") return [];
    throw new KaiError("INTERNAL_ERROR", `cannot read ${relative} (${errnoCode(error) ?? "unknown error"})`);
  } finally {
    await found.close();
  }
}

/**
 * A file's text, or null when it is missing, not a file, or leads out of the workspace.
 * The file read is the very one the walk verified (reopened from its handle). A CONFLICT
 * (the tree changed under the walk) is passed on: the caller may try again.
 */
async function readConfined(workspace: Workspace, relative: string): Promise<string | null> {
  let found: Found;
  try {
    found = await locateExisting(workspace, relative, { follow: true });
  } catch (error) {
    if (error instanceof KaiError && error.code === "CONFLICT") throw error;
    return null;
  }
  let handle: FileHandle;
  try {
    if (!found.entry.stats.isFile()) return null;
    // NONBLOCK: were it a FIFO by now, the open would otherwise wait for a writer.
    handle = await reopen(found, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch {
    return null;
  } finally {
    await found.close();
  }
  try {
    if (!(await handle.stat()).isFile()) return null;
    return await handle.readFile("utf8");
  } catch {
    return null;
  } finally {
    await handle.close();
  }
}
