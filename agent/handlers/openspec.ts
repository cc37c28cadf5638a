import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import { KaiError } from "../../shared/errors";
import { type Policy, errnoCode } from "../policy";
import { childEnv } from "../runtime/child-env";
import { countTasks } from "../runtime/openspec-tasks";
import { confineToWorkspace, workspaceRoot } from "../runtime/workspace-paths";
import type { Handler, Handlers } from "./types";

/**
 * `openspec.state`: the workspace's `openspec/` folder as OpenSpec lays it out —
 * `specs/<name>/spec.md`, active changes in `changes/<name>/` (progress from their
 * tasks.md), archived ones in `changes/archive/<name>/` — and the workflow actions that
 * can run. Actions run through the OpenSpec CLI, so none is offered where it is not
 * installed. Only real directories are read; a path leading out of the workspace is refused.
 */
const state: Handler<"openspec.state"> = async (params, ctx) => {
  const root = await workspaceRoot(ctx.policy, params.root);
  const [cliAvailable, base] = await Promise.all([openspecCli(root, ctx.signal), confineToWorkspace(ctx.policy, root, "openspec")]);
  const initialized = (await fs.stat(base.absolute).catch(() => null))?.isDirectory() ?? false;
  if (!initialized) return { initialized, cliAvailable, specs: [], changes: [], archived: [], actions: cliAvailable ? ["init"] : [] };

  const specs: Array<{ name: string; path: string }> = [];
  for (const name of await subdirectories(ctx.policy, root, "openspec/specs")) {
    const spec = `openspec/specs/${name}/spec.md`;
    if ((await readConfined(ctx.policy, root, spec)) !== null) specs.push({ name, path: spec });
  }
  const changes = [];
  for (const name of await subdirectories(ctx.policy, root, "openspec/changes")) {
    if (name === "archive") continue;
    const tasks = countTasks((await readConfined(ctx.policy, root, `openspec/changes/${name}/tasks.md`)) ?? "");
    // A change with no tasks has nothing to prove done, so it is not offered for archiving.
    const complete = tasks.total > 0 && tasks.done === tasks.total;
    changes.push({ name, tasks, actions: cliAvailable ? ["validate", "show", ...(complete ? ["archive"] : [])] : [] });
  }
  const archived = (await subdirectories(ctx.policy, root, "openspec/changes/archive")).map((name) => ({ name }));
  return { initialized, cliAvailable, specs, changes, archived, actions: cliAvailable ? ["list", "validate"] : [] };
};

export const openspecHandlers = { "openspec.state": state } satisfies Pick<Handlers, "openspec.state">;

const CLI_TIMEOUT_MS = 5_000;

/** True when `openspec --version` runs and succeeds (PATH lookup, no shell, KAI_* kept out). */
function openspecCli(cwd: string, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    execFile("openspec", ["--version"], { cwd, env: childEnv(), timeout: CLI_TIMEOUT_MS, ...(signal ? { signal } : {}) }, (error) => resolve(error === null));
  });
}

/** Names of the real (not symlinked) directories in `relative`, sorted; none when it does not exist. */
async function subdirectories(policy: Policy, root: string, relative: string): Promise<string[]> {
  const dir = await confineToWorkspace(policy, root, relative);
  try {
    const entries = await fs.readdir(dir.absolute, { withFileTypes: true });
    return entries.filter((entry) => entry.isDirectory()).map((entry) => entry.name).sort();
  } catch (error) {
    if (errnoCode(error) === "ENOENT" || errnoCode(error) === "ENOTDIR") return [];
    throw new KaiError("INTERNAL_ERROR", `cannot read ${relative} (${errnoCode(error) ?? "unknown error"})`);
  }
}

/** A file's text, or null when it is missing, not a file, or leads out of the workspace. */
async function readConfined(policy: Policy, root: string, relative: string): Promise<string | null> {
  try {
    const target = await confineToWorkspace(policy, root, relative);
    if (!(await fs.stat(target.absolute)).isFile()) return null;
    return await fs.readFile(target.absolute, "utf8");
  } catch (error) {
    if (error instanceof KaiError && error.code !== "PERMISSION_DENIED") throw error;
    return null;
  }
}

