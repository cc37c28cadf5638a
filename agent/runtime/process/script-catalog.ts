import path from "node:path";
import type { z } from "zod";
import { KaiError } from "../../../shared/errors";
import type { scriptInfo } from "../../../shared/schemas/workspace";
import type { AllowedRoots } from "../fs/confine-path";
import { locateExisting, readFolder, type Workspace, withWorkspace } from "../fs/confined-fs";
import { errnoCode } from "../fs/errors";
import { isPlainObject, readJsonObject } from "../fs/json-file";

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
export async function listScripts(
  roots: AllowedRoots,
  requestedRoot: string,
): Promise<{ root: string; scripts: Script[] }> {
  return withWorkspace(roots, requestedRoot, async (workspace) => {
    const [fromPackage, fromKai] = await Promise.all([packageScripts(workspace), kaiScripts(workspace)]);
    const kaiNames = new Set(fromKai.map((script) => script.name));
    return {
      root: workspace.real,
      scripts: [...fromPackage.filter((script) => !kaiNames.has(script.name)), ...fromKai],
    };
  });
}

/**
 * package.json scripts run as `/bin/sh -c <text>`, the way npm itself runs them, with the
 * workspace's node_modules/.bin first on PATH. The text is shell code by design: it comes
 * from the workspace's own package.json, which its owner writes; what the request supplies
 * is only a name looked up in that file. `npm run` is not used: the agent runs from one
 * bundled file on hosts that may have no npm, and npm would parse the name as options.
 * Unlike npm, `pre<name>`/`post<name>` scripts are not run.
 */
async function packageScripts(workspace: Workspace): Promise<Script[]> {
  const json = await offered(() => readJsonObject(workspace, "package.json", "package.json"));
  if (!json || !isPlainObject(json.scripts)) return [];
  const bin = path.join(workspace.real, "node_modules", ".bin");
  return Object.entries(json.scripts).flatMap(([name, text]) =>
    typeof text === "string" && name.length > 0
      ? [
          {
            name,
            source: "package.json" as const,
            command: text,
            file: "/bin/sh",
            args: ["-c", text],
            extraPath: [bin],
          },
        ]
      : [],
  );
}

/**
 * Regular files with an execute bit, run directly (no shell) by their real path. Dotfiles
 * are skipped (editor swap files, .gitkeep); a symlink is listed only when its target is
 * inside the workspace, and a `.kai/scripts` that leads out lists nothing. The folder is
 * read through its own handle and each entry walked from the workspace root's handle
 * (runtime/confined-fs.ts), so a swap made meanwhile cannot list what is outside.
 */
async function kaiScripts(workspace: Workspace): Promise<Script[]> {
  const dir = await offered(() => locateExisting(workspace, KAI_SCRIPTS_DIR, { follow: true }));
  if (!dir) return [];
  let names: string[];
  try {
    if (!dir.entry.stats.isDirectory()) return [];
    const real = path.join(workspace.real, dir.relative);
    names = (await readFolder(dir.entry.handle!, real))
      .filter((entry) => entry.isFile() || entry.isSymbolicLink())
      .map((entry) => entry.name);
  } catch (error) {
    if (errnoCode(error) === "ENOENT" || errnoCode(error) === "ENOTDIR") return [];
    throw new KaiError("INTERNAL_ERROR", `cannot read ${KAI_SCRIPTS_DIR} (${errnoCode(error) ?? "unknown error"})`);
  } finally {
    await dir.close();
  }
  const scripts: Script[] = [];
  for (const name of names.filter((name) => !name.startsWith(".")).sort()) {
    const file = await offered(() => locateExisting(workspace, `${dir.relative}/${name}`, { follow: true }));
    if (!file) continue;
    const { stats } = file.entry;
    const real = path.join(workspace.real, file.relative);
    await file.close();
    if (!stats.isFile() || (stats.mode & 0o111) === 0) continue;
    scripts.push({
      name,
      source: ".kai/scripts",
      command: `${KAI_SCRIPTS_DIR}/${name}`,
      file: real,
      args: [],
      extraPath: [path.join(workspace.real, "node_modules", ".bin")],
    });
  }
  return scripts;
}

/**
 * What `find` answers, or null when the entry leads out of the workspace or is gone (such
 * entries are simply not offered). A swap in progress (CONFLICT) reads as gone too.
 */
async function offered<T>(find: () => Promise<T>): Promise<T | null> {
  try {
    return await find();
  } catch (error) {
    if (error instanceof KaiError && ["PERMISSION_DENIED", "NOT_FOUND", "CONFLICT"].includes(error.code)) return null;
    throw error;
  }
}
