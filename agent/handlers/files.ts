import { constants, type Stats } from "node:fs";
import fs, { type FileHandle } from "node:fs/promises";
import path from "node:path";
import type { z } from "zod";
import { KaiError } from "../../shared/errors";
import { FILE_CHUNK_BYTES, MAX_FILE_BYTES } from "../../shared/schemas/command-params";
import type { fileEntry } from "../../shared/schemas/workspace";
import { byName } from "../runtime/fs/by-name";
import {
  at,
  type Folder,
  keepFolder,
  locate,
  locateExisting,
  removeTree,
  reopen,
  self,
  type Workspace,
  withWorkspace,
} from "../runtime/fs/confined-fs";
import { guessContentType, SNIFF_BYTES } from "../runtime/fs/content-type";
import { errnoCode, fsError } from "../runtime/fs/errors";
import { type UploadTarget, writeChunk } from "../runtime/fs/file-upload";
import type { Handler, Handlers } from "./types";

type FileEntry = z.infer<typeof fileEntry>;

/**
 * Names are cheap to read (no stat); a directory bigger than this is not read to the end,
 * which bounds memory. Within it, entries are sorted before the cap so the first page is
 * the same on every call.
 */
const MAX_SCANNED_ENTRIES = 100_000;

/** One directory, directories first; symlinks are shown as links, never followed. */
const list: Handler<"files.list"> = (params, ctx) =>
  withWorkspace(ctx.policy, params.root, async (workspace) => {
    const found = await locateExisting(workspace, params.path, { follow: true });
    try {
      if (!found.entry.stats.isDirectory()) throw new KaiError("VALIDATION_ERROR", `${params.path} is not a directory`);
      // Read through the folder's own handle: the path may lead elsewhere by now.
      const dir: Folder = {
        handle: found.entry.handle!,
        real: path.join(workspace.real, found.relative),
        relative: found.relative,
      };
      const names: Array<{ name: string; directory: boolean }> = [];
      let scannedAll = true;
      try {
        for await (const dirent of await fs.opendir(self(dir.handle, dir.real))) {
          ctx.signal.throwIfAborted();
          if (!params.hidden && dirent.name.startsWith(".")) continue;
          if (names.length >= MAX_SCANNED_ENTRIES) {
            scannedAll = false;
            break;
          }
          names.push({ name: dirent.name, directory: dirent.isDirectory() });
        }
      } catch (error) {
        throw fsError(error, params.path);
      }
      names.sort((a, b) => Number(b.directory) - Number(a.directory) || byName(a.name, b.name));

      const cap = ctx.policy.maxDirectoryEntries;
      const entries: FileEntry[] = [];
      for (const { name } of names.slice(0, cap)) {
        const stat = await fs.lstat(at(dir, name)).catch(() => null);
        if (stat === null) continue; // removed since it was read
        entries.push({
          name,
          path: joinRelative(found.relative, name),
          type: typeOf(stat),
          size: stat.size,
          modified: stat.mtime.toISOString(),
        });
      }
      return { path: found.relative, entries, truncated: !scannedAll || names.length > cap };
    } finally {
      await found.close();
    }
  });

/** One chunk, read at its offset through a file handle: a 25 MiB file is never read whole. */
const read: Handler<"files.read"> = (params, ctx) =>
  withWorkspace(ctx.policy, params.root, async (workspace) => {
    const found = await locateExisting(workspace, params.path, { follow: true });
    let handle: FileHandle;
    try {
      if (found.entry.stats.isDirectory())
        throw new KaiError(
          "VALIDATION_ERROR",
          `${params.path || "the workspace root"} is a directory; list it instead`,
        );
      if (!found.entry.stats.isFile()) throw new KaiError("VALIDATION_ERROR", `${params.path} is not a regular file`);
      // The very file the walk found, opened for reading. NONBLOCK: were it a FIFO by now,
      // the open would otherwise wait for a writer.
      handle = await reopen(found, constants.O_RDONLY | constants.O_NONBLOCK);
    } catch (error) {
      throw fsError(error, params.path);
    } finally {
      await found.close();
    }
    try {
      const stats = await handle.stat();
      if (!stats.isFile()) throw new KaiError("VALIDATION_ERROR", `${params.path} is not a regular file`);
      if (stats.size > MAX_FILE_BYTES) {
        throw new KaiError(
          "PAYLOAD_TOO_LARGE",
          `${params.path} is ${stats.size} bytes; files larger than ${MAX_FILE_BYTES} bytes cannot be read through Kai`,
          {
            details: { size: stats.size, maxBytes: MAX_FILE_BYTES },
          },
        );
      }
      if (params.offset > stats.size)
        throw new KaiError(
          "VALIDATION_ERROR",
          `offset ${params.offset} is past the end of ${params.path} (${stats.size} bytes)`,
        );
      const data = await readAt(handle, params.offset, Math.min(params.length, stats.size - params.offset));
      const sniffLength = Math.min(SNIFF_BYTES, stats.size);
      const head =
        params.offset === 0 && data.length >= sniffLength
          ? data.subarray(0, sniffLength)
          : await readAt(handle, 0, sniffLength);
      return {
        path: found.relative,
        size: stats.size,
        offset: params.offset,
        data: data.toString("base64"),
        eof: params.offset + data.length >= stats.size,
        ...guessContentType(found.name, head, sniffLength === stats.size),
        modified: stats.mtime.toISOString(),
      };
    } catch (error) {
      throw fsError(error, params.path);
    } finally {
      await handle.close();
    }
  });

/** One chunk of an upload; see runtime/file-upload.ts for how chunks are ordered and committed. */
const write: Handler<"files.write"> = async (params, ctx) => {
  const data = decodeBase64(params.data);
  if (data.length > FILE_CHUNK_BYTES) {
    throw new KaiError("PAYLOAD_TOO_LARGE", `one chunk carries at most ${FILE_CHUNK_BYTES} bytes`, {
      details: { maxChunkBytes: FILE_CHUNK_BYTES },
    });
  }
  const resolveTarget = () =>
    withWorkspace(ctx.policy, params.root, (workspace) => writableTarget(workspace, params.path, params.createParents));
  try {
    return await writeChunk({
      uploadId: params.uploadId,
      key: `${params.root}\0${params.path}`,
      index: params.index,
      data,
      last: params.last,
      resolveTarget,
    });
  } catch (error) {
    throw fsError(error, params.path);
  }
};

/**
 * Deletes the entry itself: a symlink is unlinked, never what it points to. The path must
 * still confine as a whole (a link leading out is refused like any other escape), and the
 * workspace root is never deleted. Everything is removed relative to the folder handle the
 * walk verified, and a folder's contents relative to its own handle, never by path.
 */
const remove: Handler<"files.delete"> = (params, ctx) =>
  withWorkspace(ctx.policy, params.root, async (workspace) => {
    const lexical = path.posix.normalize(params.path || ".");
    if (lexical === "." || lexical === "./")
      throw new KaiError("PERMISSION_DENIED", "the workspace root cannot be deleted");
    const found = await locateExisting(workspace, params.path, { follow: false });
    try {
      const { folder, name, entry } = found;
      if (found.relative === "") throw new KaiError("PERMISSION_DENIED", "the workspace root cannot be deleted");
      if (entry.stats.isSymbolicLink()) await mustConfine(workspace, found.relative);
      try {
        if (!entry.stats.isDirectory()) await fs.unlink(at(folder, name));
        else if (params.recursive) await removeTree(folder, name);
        else {
          await fs.rmdir(at(folder, name)).catch((error: unknown) => {
            const code = errnoCode(error);
            if (code === "ENOTEMPTY" || code === "EEXIST")
              throw new KaiError("CONFLICT", `${params.path}: folder is not empty; pass recursive`);
            throw error;
          });
        }
      } catch (error) {
        // A file that became a folder (or the other way round) after it was looked at.
        const code = errnoCode(error);
        if (code === "EISDIR" || code === "ENOTDIR" || (code === "EPERM" && !entry.stats.isDirectory())) {
          throw new KaiError("CONFLICT", `${params.path} changed while it was being deleted; look again and retry`);
        }
        throw error;
      }
      return { path: found.relative, deleted: true };
    } catch (error) {
      throw fsError(error, params.path);
    } finally {
      await found.close();
    }
  });

export const fileHandlers = {
  "files.list": list,
  "files.read": read,
  "files.write": write,
  "files.delete": remove,
} satisfies Pick<Handlers, "files.list" | "files.read" | "files.write" | "files.delete">;

/** A symlink is deleted only when it leads somewhere inside (or nowhere yet). */
async function mustConfine(workspace: Workspace, relative: string): Promise<void> {
  try {
    await (await locate(workspace, relative, { follow: true })).close();
  } catch (error) {
    if (!(error instanceof KaiError) || error.code !== "NOT_FOUND") throw error;
  }
}

/**
 * The target of a write: not a directory, its folder present (or created on request, each
 * level relative to the one above). Answers a handle on the folder, which the upload keeps.
 */
async function writableTarget(workspace: Workspace, relative: string, createParents: boolean): Promise<UploadTarget> {
  const found = await locate(workspace, relative, { follow: true, createParents });
  try {
    if (found.relative === "") throw new KaiError("VALIDATION_ERROR", "the workspace root is a directory");
    if (found.entry?.stats.isDirectory()) throw new KaiError("VALIDATION_ERROR", `${relative} is a directory`);
    if (found.entry && !found.entry.stats.isFile())
      throw new KaiError("VALIDATION_ERROR", `${relative} is not a regular file`);
    return { folder: await keepFolder(found), name: found.name, relative: found.relative };
  } finally {
    await found.close();
  }
}

async function readAt(handle: FileHandle, offset: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await handle.read(buffer, filled, length - filled, offset + filled);
    if (bytesRead === 0) break; // the file shrank since it was stat'ed
    filled += bytesRead;
  }
  return buffer.subarray(0, filled);
}

/** Buffer.from(…, "base64") skips garbage silently; a corrupted chunk must be refused instead. */
function decodeBase64(data: string): Buffer {
  if (data.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(data))
    throw new KaiError("VALIDATION_ERROR", "data must be base64");
  return Buffer.from(data, "base64");
}

function typeOf(stat: Stats): FileEntry["type"] {
  if (stat.isSymbolicLink()) return "symlink";
  if (stat.isDirectory()) return "directory";
  return stat.isFile() ? "file" : "other";
}

function joinRelative(dir: string, name: string): string {
  return dir === "" ? name : `${dir}/${name}`;
}
