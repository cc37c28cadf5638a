import type { Dirent, Stats } from "node:fs";
import fs, { type FileHandle } from "node:fs/promises";
import path from "node:path";
import { KaiError } from "../../shared/errors";
import type { DirectoryListing } from "../../shared/schemas/flexy";
import type { Policy } from "../policy";
import { byName } from "../runtime/fs/by-name";
import { at, followAllowedLink, openAllowedDirectory, self } from "../runtime/fs/confined-fs";
import { errnoCode } from "../runtime/fs/errors";
import type { Handler, Handlers } from "./types";

type DirectoryEntry = DirectoryListing["directories"][number];
type FileEntry = DirectoryListing["files"][number];

/**
 * Lists one directory inside the allowed roots. Entries are read one at a time (`opendir`),
 * so a directory of a million files costs at most `maxDirectoryEntries` stats. A symlink is
 * shown only if its target is inside the allowed roots; entries that are neither files nor
 * directories (sockets, fifos, devices) are left out.
 */
const list: Handler<"directory.list"> = async (params, ctx) => {
  const requested = params.path ?? ctx.policy.allowedRoots[0];
  if (requested === undefined) throw new KaiError("PERMISSION_DENIED", "this host's policy allows no directories");
  // The folder is opened once and its descriptor (not its path) checked against the roots;
  // entries are then read relative to it, so a swap meanwhile cannot list anything outside.
  const folder = await openAllowedDirectory(ctx.policy, requested).catch((error: unknown) => {
    throw fsError(error, requested);
  });
  try {
    const directories: DirectoryEntry[] = [];
    const files: FileEntry[] = [];
    let truncated = false;
    let entries: AsyncIterable<Dirent>;
    try {
      entries = await fs.opendir(self(folder.handle, folder.real));
    } catch (error) {
      throw fsError(error, requested);
    }
    // Leaving the loop early (break or throw) closes the directory stream.
    for await (const dirent of entries) {
      ctx.signal.throwIfAborted();
      const entry = await describe(ctx.policy, folder, dirent);
      if (entry === null) continue;
      if (directories.length + files.length >= ctx.policy.maxDirectoryEntries) {
        truncated = true;
        break;
      }
      if (entry.kind === "directory") directories.push(entry.entry);
      else files.push(entry.entry);
    }
    directories.sort((a, b) => byName(a.name, b.name));
    files.sort((a, b) => byName(a.name, b.name));
    return { path: folder.real, directories, files, truncated };
  } finally {
    await folder.handle.close();
  }
};

/** Checks a path the way a catalog item needs it: inside the roots, an existing directory. */
const check: Handler<"path.check"> = async (params, ctx) => {
  const folder = await openAllowedDirectory(ctx.policy, params.path).catch((error: unknown) => {
    throw fsError(error, params.path);
  });
  await folder.handle.close();
  return { path: folder.real, isDirectory: true };
};

export const directoryHandlers = { "directory.list": list, "path.check": check } satisfies Pick<
  Handlers,
  "directory.list" | "path.check"
>;

type Described = { kind: "directory"; entry: DirectoryEntry } | { kind: "file"; entry: FileEntry };

async function describe(
  policy: Policy,
  folder: { handle: FileHandle; real: string },
  dirent: Dirent,
): Promise<Described | null> {
  // The path as the user sees it: under the listed directory, even for a symlink.
  const entryPath = path.join(folder.real, dirent.name);
  // A symlink is followed from the folder's handle and its target checked by descriptor;
  // anything else is looked at relative to the handle, never through the path.
  const stats = dirent.isSymbolicLink()
    ? await followAllowedLink(policy, folder, dirent.name)
    : await fs.lstat(at({ ...folder, relative: "" }, dirent.name)).catch(() => null);
  // Escaping or broken symlink, or an entry that vanished since it was read: not shown.
  if (stats === null) return null;
  const base = { name: dirent.name, path: entryPath, modified: stats.mtime.toISOString() };
  if (stats.isDirectory()) return { kind: "directory", entry: base };
  if (stats.isFile()) return { kind: "file", entry: { ...base, size: stats.size } };
  return null;
}

/** VALIDATION_ERROR unless `realPath` is an existing directory; PERMISSION_DENIED if unreadable. */
export async function requireDirectory(realPath: string, requested: string): Promise<void> {
  let stats: Stats;
  try {
    stats = await fs.stat(realPath);
  } catch (error) {
    throw fsError(error, requested);
  }
  if (!stats.isDirectory()) throw new KaiError("VALIDATION_ERROR", `${requested} is not a directory`);
}

function fsError(error: unknown, requested: string): KaiError {
  if (error instanceof KaiError) return error;
  const code = errnoCode(error);
  if (code === "ENOENT" || code === "ENOTDIR")
    return new KaiError("VALIDATION_ERROR", `no such directory: ${requested}`);
  if (code === "EACCES" || code === "EPERM")
    return new KaiError("PERMISSION_DENIED", `${requested}: permission denied`);
  return new KaiError("INTERNAL_ERROR", `cannot read ${requested} (${code ?? "unknown error"})`);
}
