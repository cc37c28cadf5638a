import { constants, type Dirent, existsSync, type Stats } from "node:fs";
import fs, { type FileHandle } from "node:fs/promises";
import path from "node:path";
import { KaiError } from "../../../shared/errors";
import { type AllowedRoots, confinePath, isInsideRoot } from "./confine-path";
import { errnoCode, fsError } from "./errors";

/**
 * File system access that cannot be raced out of the workspace.
 *
 * Confining a path with `realpath` and then opening it by that path is a race: a process
 * that can write in the workspace (a coding agent in a container with it bind-mounted) can
 * swap a folder for a symlink between the check and the open, and the open follows it out.
 * So nothing here opens a workspace path by name from `/`. A walk starts at an open
 * handle on the workspace root and opens one component at a time relative to the handle
 * before it, never following a symlink (O_NOFOLLOW on every step); a symlink it meets is
 * read and resolved by the walk itself, against its own stack of open folders, so `..`
 * goes back to the folder the walk came from and an absolute target must name the
 * workspace. Symlinks that stay inside keep working; one that leads out is refused
 * (PERMISSION_DENIED) without anything outside being looked up, so a NOT_FOUND never
 * tells whether a file exists outside. Creates, renames and deletes name an entry relative
 * to a folder the walk verified, never a path.
 *
 * Node has no openat(). On Linux, `/proc/self/fd/<fd>/<name>` is one: the magic link
 * resolves to the very folder the descriptor holds, wherever it has been moved, so opening,
 * creating, renaming or unlinking through it acts relative to that folder, and
 * `readlink /proc/self/fd/<fd>` says where an open file really is, which is checked once
 * more at the end of each walk (a folder moved out by someone with access outside the
 * workspace is caught there). Steps use O_PATH handles: they name a file without opening
 * it, so a FIFO or device is never opened just to look at it.
 *
 * Elsewhere (macOS: no /proc) the walk is the same but opens `<folder's path>/<name>`,
 * and after each step checks that the folder's path still leads to the handle it holds
 * and that the entry's path leads to what was opened ((dev, ino) compared). That narrows
 * the race to the moment between the open and the check but does not close it: a swap
 * made and undone inside that moment can make a create or rename land outside, or
 * make an open touch (not return) a file outside. A read returns only what passed the
 * final check, whose (dev, ino) must be the one the workspace path leads to afterwards.
 */

const PROC_FD = "/proc/self/fd";
const ANCHORED = process.platform === "linux" && existsSync(PROC_FD);
/** O_PATH (Linux; not in fs.constants): a handle that names a file without opening it for I/O. */
const O_PATH = ANCHORED ? 0o10000000 : 0;
/** How a walk opens each step: never through a symlink, never blocking on a FIFO. */
const STEP = O_PATH | constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
/** The most symlinks one walk follows, as the kernel's own limit. */
const MAX_LINKS = 40;

/** An open folder whose place inside the workspace has been verified. */
export interface Folder {
  handle: FileHandle;
  /** Its path (the workspace's real root joined with `relative`), for messages and the non-Linux fallback. */
  real: string;
  /** Relative to the workspace root, forward slashes, "" for the root. */
  relative: string;
}

export interface Workspace extends Folder {
  /** The root as the request named it, normalised: an absolute symlink target below it also counts as inside. */
  requested: string;
  close(): Promise<void>;
}

/** Where a walk ended: the entry `name` in `folder`, open or absent. Close it when done. */
export interface Located {
  /** The folder holding the entry; for the workspace root itself, the root (and `name` is ""). */
  folder: Folder;
  name: string;
  /** The entry relative to the workspace root after symlinks, forward slashes ("" for the root). */
  relative: string;
  /**
   * The entry's lstat and its (O_PATH) handle, or null when the last component does not
   * exist. A symlink (only found when not following) has no handle: it is acted on by name.
   */
  entry: { handle: FileHandle | null; stats: Stats } | null;
  close(): Promise<void>;
}

export interface LocateOptions {
  /** Follow a symlink in the last component (reads, writes). Deletes act on the link itself. */
  follow: boolean;
  /** Create missing folders on the way, each relative to the one before. */
  createParents?: boolean;
}

/**
 * Opens the workspace root: inside the allowed roots (confinePath), a directory, and the
 * descriptor itself checked to be inside them. Callers must close it.
 */
async function openWorkspace(roots: AllowedRoots, requestedRoot: string): Promise<Workspace> {
  const { handle, real } = await openAllowedDirectory(roots, requestedRoot).catch((error: unknown) => {
    const code = error instanceof KaiError ? error.code : errnoCode(error);
    if (code === "VALIDATION_ERROR" || code === "ENOENT" || code === "ENOTDIR") {
      throw new KaiError("NOT_FOUND", `the workspace directory ${requestedRoot} does not exist on this host`);
    }
    throw fsError(error, requestedRoot);
  });
  return { handle, real, relative: "", requested: path.resolve(requestedRoot), close: () => handle.close() };
}

/** Runs `work` with the workspace open, and closes it afterwards. */
export async function withWorkspace<T>(
  roots: AllowedRoots,
  root: string,
  work: (workspace: Workspace) => Promise<T>,
): Promise<T> {
  const workspace = await openWorkspace(roots, root);
  try {
    return await work(workspace);
  } finally {
    await workspace.close();
  }
}

/**
 * Walks `requested` (relative to the workspace, `..` resolved lexically first) from the
 * root's handle, one component at a time. Only the last component may be missing (or any,
 * with createParents). Leading out, by `..` or by a symlink, is PERMISSION_DENIED.
 */
export async function locate(workspace: Workspace, requested: string, options: LocateOptions): Promise<Located> {
  const shown = requested === "" ? "the workspace root" : requested;
  const pending = lexicalParts(requested);
  const stack: Folder[] = [workspace];
  const top = () => stack[stack.length - 1]!;
  const closeStack = async () => {
    for (const folder of stack.splice(1)) await folder.handle.close();
  };
  let links = 0;
  let created = 0;
  try {
    while (pending.length > 0) {
      const name = pending.shift()!;
      if (name === "" || name === ".") continue;
      if (name === "..") {
        if (stack.length === 1) throw leadsOut(shown);
        await stack.pop()!.handle.close();
        continue;
      }
      const last = pending.every((rest) => rest === "" || rest === ".");
      const folder = top();
      let step: { handle: FileHandle | null; stats: Stats };
      try {
        step = await openStep(folder, name);
      } catch (error) {
        const code = errnoCode(error);
        if (code === "ENOENT" && last) return await located(workspace, stack, folder, name, null);
        if (code === "ENOENT" && options.createParents && created++ < 64) {
          await fs.mkdir(at(folder, name), 0o777).catch((mkdirError: unknown) => {
            if (errnoCode(mkdirError) !== "EEXIST") throw fsError(mkdirError, requested);
          });
          pending.unshift(name);
          continue;
        }
        if (code === "ENOENT") {
          const advice = options.createParents === false ? "; pass createParents to create its folders" : "";
          throw new KaiError(
            "NOT_FOUND",
            `no such file or folder: ${shown} (${join(folder.relative, name)} does not exist)${advice}`,
          );
        }
        throw fsError(error, requested);
      }
      const { handle, stats } = step;
      if (handle === null) {
        if (last && !options.follow) return await located(workspace, stack, folder, name, step);
        if (++links > MAX_LINKS) throw new KaiError("PERMISSION_DENIED", `${shown}: too many levels of symbolic links`);
        const target = await fs.readlink(at(folder, name)).catch((error: unknown) => {
          throw errnoCode(error) === "EINVAL" ? changed(shown) : fsError(error, requested);
        });
        if (path.isAbsolute(target)) {
          const inside = insideWorkspace(workspace, target);
          if (inside === null) throw leadsOut(shown);
          await closeStack();
          pending.unshift(...inside);
        } else {
          pending.unshift(...target.split("/"));
        }
        continue;
      }
      if (last) return await located(workspace, stack, folder, name, step);
      if (!stats.isDirectory()) {
        await handle.close();
        throw new KaiError("VALIDATION_ERROR", `${shown}: ${join(folder.relative, name)} is not a folder`);
      }
      stack.push({ handle, real: path.join(folder.real, name), relative: join(folder.relative, name) });
    }
    // The walk ended on a folder (the root, or `..`/`.` last in a link): that folder is the entry.
    if (stack.length === 1) {
      const stats = await workspace.handle.stat();
      return await verified(workspace, {
        folder: workspace,
        name: "",
        relative: "",
        entry: { handle: workspace.handle, stats },
        close: async () => undefined,
      });
    }
    const entry = stack.pop()!;
    const stats = await entry.handle.stat();
    return await located(workspace, stack, top(), path.posix.basename(entry.relative), { handle: entry.handle, stats });
  } catch (error) {
    await closeStack();
    throw error instanceof KaiError ? error : fsError(error, requested);
  }

  async function located(
    ws: Workspace,
    folders: Folder[],
    folder: Folder,
    name: string,
    entry: Located["entry"],
  ): Promise<Located> {
    // The stack's handles now belong to the answer: the holding folder stays open, the rest close.
    const keep = folders.splice(1);
    for (const other of keep) if (other !== folder) await other.handle.close();
    const answer: Located = {
      folder,
      name,
      relative: join(folder.relative, name),
      entry,
      close: async () => {
        await entry?.handle?.close();
        if (folder !== ws) await folder.handle.close();
      },
    };
    try {
      return await verified(ws, answer);
    } catch (error) {
      await answer.close();
      throw error;
    }
  }
}

/** `locate`, then the entry must exist. */
export type Found = Located & { entry: NonNullable<Located["entry"]> };
export async function locateExisting(workspace: Workspace, requested: string, options: LocateOptions): Promise<Found> {
  const found = await locate(workspace, requested, options);
  if (found.entry === null) {
    await found.close();
    throw new KaiError("NOT_FOUND", `no such file or folder: ${requested === "" ? "the workspace root" : requested}`);
  }
  return found as Found;
}

/**
 * Opens the entry a walk found for I/O (`flags`, e.g. O_RDONLY|O_NONBLOCK). On Linux this
 * reopens the O_PATH handle through /proc, which gives the same file, never a path lookup.
 */
export async function reopen(found: Found, flags: number): Promise<FileHandle> {
  const { handle, stats } = found.entry;
  if (handle === null) throw new KaiError("PERMISSION_DENIED", `${found.relative} is a symbolic link`);
  // The magic link is itself a symlink: O_NOFOLLOW on it would refuse every file.
  if (ANCHORED) return fs.open(`${PROC_FD}/${handle.fd}`, flags & ~constants.O_NOFOLLOW);
  return sameFile(await fs.open(at(found.folder, found.name), flags | constants.O_NOFOLLOW), stats, found.relative);
}

/** A handle of the caller's own on the folder holding a found entry, to keep past `found.close()`. */
export async function keepFolder(found: Located): Promise<Folder> {
  const { folder } = found;
  const handle = ANCHORED
    ? await fs.open(`${PROC_FD}/${folder.handle.fd}`, O_PATH | constants.O_DIRECTORY | constants.O_NONBLOCK)
    : await sameFile(
        await fs.open(folder.real, STEP | constants.O_DIRECTORY),
        await folder.handle.stat(),
        folder.relative,
      );
  return { handle, real: folder.real, relative: folder.relative };
}

/** A path that names `name` inside `folder` without looking up anything above it (on Linux). */
export function at(folder: Folder, name: string): string {
  return ANCHORED ? `${PROC_FD}/${folder.handle.fd}/${name}` : path.join(folder.real, name);
}

/** A path that names the open folder itself (for opendir and the like). */
export function self(handle: FileHandle, real: string): string {
  return ANCHORED ? `${PROC_FD}/${handle.fd}` : real;
}

/** The entries of an open folder, read through its handle. */
export async function readFolder(handle: FileHandle, real: string): Promise<Dirent[]> {
  return fs.readdir(self(handle, real), { withFileTypes: true });
}

/**
 * Deletes `name` in `folder` and everything below it, never following a symlink: each
 * sub-folder is opened relative to its parent's handle with O_NOFOLLOW, so a folder swapped
 * for a symlink midway has the link removed, never what it points to.
 */
export async function removeTree(folder: Folder, name: string): Promise<void> {
  let handle: FileHandle;
  try {
    handle = await fs.open(at(folder, name), STEP | constants.O_DIRECTORY);
  } catch (error) {
    const code = errnoCode(error);
    // Not a folder (any more): a file or a symlink, which unlink removes as itself.
    if (code === "ENOTDIR" || code === "ELOOP") return fs.unlink(at(folder, name));
    throw error;
  }
  const child: Folder = { handle, real: path.join(folder.real, name), relative: join(folder.relative, name) };
  try {
    for (const dirent of await readFolder(handle, child.real)) {
      if (dirent.isDirectory()) await removeTree(child, dirent.name);
      else {
        await fs.unlink(at(child, dirent.name)).catch(async (error: unknown) => {
          // It became a folder since it was read.
          if (errnoCode(error) === "EISDIR" || errnoCode(error) === "EPERM") return removeTree(child, dirent.name);
          if (errnoCode(error) !== "ENOENT") throw error;
        });
      }
    }
  } finally {
    await handle.close();
  }
  await fs.rmdir(at(folder, name));
}

/**
 * Opens an absolute directory inside the allowed roots (directory.list) and checks the
 * descriptor, not the path, is inside them. Answers the handle and its real path.
 */
export async function openAllowedDirectory(
  roots: AllowedRoots,
  requested: string,
): Promise<{ handle: FileHandle; real: string }> {
  const real = await confinePath(roots, requested);
  const handle = await fs.open(real, STEP);
  try {
    const stats = await handle.stat();
    // confinePath resolved every symlink: one there now is a swap.
    if (stats.isSymbolicLink()) throw changed(requested);
    if (!stats.isDirectory()) throw new KaiError("VALIDATION_ERROR", `${requested} is not a directory`);
    const actual = await realPathOf(handle, real);
    await insideAllowedRoots(roots, actual, requested);
    return { handle, real: actual };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/**
 * The stats of what the symlink `name` in an open folder leads to, if that is inside the
 * allowed roots; null otherwise (escaping, broken, a loop). The link is followed by the
 * kernel from the folder's handle and the result checked by its descriptor.
 */
export async function followAllowedLink(
  roots: AllowedRoots,
  folder: { handle: FileHandle; real: string },
  name: string,
): Promise<Stats | null> {
  const entry = path.join(folder.real, name);
  if (!ANCHORED) {
    try {
      return await fs.stat(await confinePath(roots, entry));
    } catch {
      return null;
    }
  }
  let handle: FileHandle;
  try {
    handle = await fs.open(`${PROC_FD}/${folder.handle.fd}/${name}`, O_PATH | constants.O_NONBLOCK);
  } catch {
    return null;
  }
  try {
    await insideAllowedRoots(roots, await realPathOf(handle, entry), entry);
    return await handle.stat();
  } catch {
    return null;
  } finally {
    await handle.close();
  }
}

/** Where an open descriptor really is: /proc on Linux; elsewhere `expected`, once its (dev, ino) matches the descriptor's. */
async function realPathOf(handle: FileHandle, expected: string): Promise<string> {
  if (ANCHORED) return fs.readlink(`${PROC_FD}/${handle.fd}`);
  const [held, named] = await Promise.all([handle.stat(), fs.stat(await fs.realpath(expected))]);
  if (held.dev !== named.dev || held.ino !== named.ino) throw changed(expected);
  return fs.realpath(expected);
}

async function insideAllowedRoots(roots: AllowedRoots, real: string, requested: string): Promise<void> {
  const resolved = await Promise.all(roots.allowedRoots.map((root) => fs.realpath(root).catch(() => null)));
  if (!resolved.some((root) => root !== null && isInsideRoot(root, real))) {
    throw new KaiError(
      "PERMISSION_DENIED",
      `${requested} is outside the allowed roots (${roots.allowedRoots.join(", ")})`,
      {
        details: { allowedRoots: roots.allowedRoots },
      },
    );
  }
}

/** One step of a walk: `name` in `folder`, never followed; a symlink answers its lstat and no handle. */
async function openStep(folder: Folder, name: string): Promise<{ handle: FileHandle | null; stats: Stats }> {
  if (ANCHORED) {
    const handle = await fs.open(at(folder, name), STEP);
    let stats: Stats;
    try {
      stats = await handle.stat();
    } catch (error) {
      await handle.close();
      throw error;
    }
    if (!stats.isSymbolicLink()) return { handle, stats };
    await handle.close();
    return { handle: null, stats };
  }
  // Fallback: macOS refuses O_NOFOLLOW on a symlink (ELOOP) rather than open the link, so look first.
  const entry = at(folder, name);
  const stats = await fs.lstat(entry);
  if (stats.isSymbolicLink()) return { handle: null, stats };
  return { handle: await sameFile(await fs.open(entry, STEP), stats, entry), stats };
}

/** Fallback only: refuses (and closes) a handle whose file is not the one `expected` (dev, ino) names. */
async function sameFile(handle: FileHandle, expected: Stats, shown: string): Promise<FileHandle> {
  const held = await handle.stat();
  if (held.dev !== expected.dev || held.ino !== expected.ino) {
    await handle.close();
    throw changed(shown);
  }
  return handle;
}

/** The last check of a walk: the descriptor (entry, or folder for a missing entry) is inside the workspace. */
async function verified(workspace: Workspace, found: Located): Promise<Located> {
  if (!ANCHORED) {
    // The entry's path (or, for a link or a missing entry, its folder's) must still lead to what is held.
    const held = found.entry?.handle ? found.entry.stats : await found.folder.handle.stat();
    const named = await fs
      .lstat(path.join(workspace.real, found.entry?.handle ? found.relative : found.folder.relative))
      .catch(() => null);
    if (named === null || named.dev !== held.dev || named.ino !== held.ino) throw changed(found.relative);
    return found;
  }
  const handle = found.entry?.handle ?? found.folder.handle;
  const actual = await fs.readlink(`${PROC_FD}/${handle.fd}`);
  // A file removed since it was opened reads back as "<path> (deleted)"; where it was still counts.
  if (!isInsideRoot(workspace.real, actual.replace(/ \(deleted\)$/, "")))
    throw leadsOut(found.relative || "the workspace root");
  return found;
}

/** The components of `requested` with `..` resolved lexically; leading out that way is refused. */
function lexicalParts(requested: string): string[] {
  if (requested.includes("\0")) throw new KaiError("PERMISSION_DENIED", "path must not contain NUL bytes");
  if (path.posix.isAbsolute(requested) || path.isAbsolute(requested))
    throw new KaiError("PERMISSION_DENIED", `path must be relative to the workspace: ${requested}`);
  const normal = path.posix.normalize(requested === "" ? "." : requested);
  if (normal === ".." || normal.startsWith("../")) throw leadsOut(requested);
  return normal.split("/").filter((part) => part !== "" && part !== ".");
}

/** An absolute symlink target as components below the workspace root, or null when it names something else. */
function insideWorkspace(workspace: Workspace, target: string): string[] | null {
  const normal = path.posix.normalize(target);
  for (const base of [workspace.real, workspace.requested]) {
    if (isInsideRoot(base, normal))
      return path.posix
        .relative(base, normal)
        .split("/")
        .filter((part) => part !== "");
  }
  return null;
}

function join(dir: string, name: string): string {
  return dir === "" ? name : `${dir}/${name}`;
}

function leadsOut(shown: string): KaiError {
  return new KaiError("PERMISSION_DENIED", `${shown} leads outside the workspace`);
}

function changed(shown: string): KaiError {
  return new KaiError("CONFLICT", `${shown || "the workspace root"} changed while it was being opened; try again`);
}
