import fs from "node:fs/promises";
import path from "node:path";
import { KaiError } from "../../shared/errors";
import type { z } from "zod";
import type { scriptInfo } from "../../shared/schemas/workspace";
import { type Policy, errnoCode } from "../policy";
import { isPlainObject, readJsonObject } from "./json-file";
import { confineToWorkspace, workspaceRoot } from "./workspace-paths";

/**
 * The scripts a workspace offers: its package.json `scripts` and the executables in
 * `.kai/scripts/`. This list is the whole of what `scripts.run` may start; a name that is
 * not in it runs nothing. A `.kai/scripts/<name>` shadows a package.json script of the same
 * name (only the one that would run is listed): it is the Kai-specific, deliberate choice.
 */
export interface Script extends z.infer<typeof scriptInfo> {
  /** What to spawn, with `args`; never through a shell built from the request. */
  file: string;
  args: string[];
  /** Directories put first on PATH. */
  extraPath: string[];
}

const KAI_SCRIPTS_DIR = ".kai/scripts";

/** The workspace's real root and its scripts: package.json ones in file order, then `.kai/scripts` by name. */
export async function listScripts(policy: Policy, requestedRoot: string): Promise<{ root: string; scripts: Script[] }> {
  const root = await workspaceRoot(policy, requestedRoot);
  const [fromPackage, fromKai] = await Promise.all([packageScripts(policy, root), kaiScripts(policy, root)]);
  const kaiNames = new Set(fromKai.map((script) => script.name));
  return { root, scripts: [...fromPackage.filter((script) => !kaiNames.has(script.name)), ...fromKai] };
}

/**
 * package.json scripts run as `/bin/sh -c <text>`, the way npm itself runs them, with the
 * workspace's node_modules/.bin first on PATH. The text is shell code by design: it comes
 * from the workspace's own package.json, which its owner writes; what the request supplies
 * is only a name looked up in that file. `npm run` is not used: the agent runs from one
 * bundled file on hosts that may have no npm, and npm would parse the name as options.
 * Unlike npm, `pre<name>`/`post<name>` scripts are not run.
 */
async function packageScripts(policy: Policy, root: string): Promise<Script[]> {
  const target = await confined(policy, root, "package.json");
  const json = target && (await readJsonObject(target, "package.json"));
  if (!json || !isPlainObject(json.scripts)) return [];
  const bin = path.join(root, "node_modules", ".bin");
  return Object.entries(json.scripts).flatMap(([name, text]) =>
    typeof text === "string" && name.length > 0 ? [{ name, source: "package.json" as const, command: text, file: "/bin/sh", args: ["-c", text], extraPath: [bin] }] : [],
  );
}

/**
 * Regular files with an execute bit, run directly (no shell) by their real path. Dotfiles
 * are skipped (editor swap files, .gitkeep); a symlink is listed only when its target is
 * inside the workspace, and a `.kai/scripts` that leads out lists nothing.
 */
async function kaiScripts(policy: Policy, root: string): Promise<Script[]> {
  const dir = await confined(policy, root, KAI_SCRIPTS_DIR);
  if (!dir) return [];
  let names: string[];
  try {
    names = (await fs.readdir(dir, { withFileTypes: true })).filter((entry) => entry.isFile() || entry.isSymbolicLink()).map((entry) => entry.name);
  } catch (error) {
    if (errnoCode(error) === "ENOENT" || errnoCode(error) === "ENOTDIR") return [];
    throw new KaiError("INTERNAL_ERROR", `cannot read ${KAI_SCRIPTS_DIR} (${errnoCode(error) ?? "unknown error"})`);
  }
  const scripts: Script[] = [];
  for (const name of names.filter((name) => !name.startsWith(".")).sort()) {
    const file = await confined(policy, root, path.join(path.relative(root, dir), name));
    const stat = file ? await fs.stat(file).catch(() => null) : null;
    if (!file || !stat?.isFile() || (stat.mode & 0o111) === 0) continue;
    scripts.push({ name, source: ".kai/scripts", command: `${KAI_SCRIPTS_DIR}/${name}`, file, args: [], extraPath: [path.join(root, "node_modules", ".bin")] });
  }
  return scripts;
}

/** The real path of `relative`, or null when it leads out of the workspace (such entries are simply not offered). */
async function confined(policy: Policy, root: string, relative: string): Promise<string | null> {
  try {
    return (await confineToWorkspace(policy, root, relative)).absolute;
  } catch (error) {
    if (error instanceof KaiError && error.code === "PERMISSION_DENIED") return null;
    throw error;
  }
}
