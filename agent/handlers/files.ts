import { constants, type Stats } from "node:fs";
import fs, { type FileHandle } from "node:fs/promises";
import path from "node:path";
import { KaiError } from "../../shared/errors";
import { FILE_CHUNK_BYTES, MAX_FILE_BYTES, type fileEntry } from "../../shared/schemas/workspace";
import type { z } from "zod";
import type { Policy } from "../policy";
import { SNIFF_BYTES, guessContentType } from "../runtime/content-type";
import { writeChunk } from "../runtime/file-upload";
import { fsError } from "../runtime/fs-errors";
import { confineToWorkspace } from "../runtime/workspace-paths";
import type { Handler, Handlers } from "./types";

type FileEntry = z.infer<typeof fileEntry>;

const byName = new Intl.Collator("en", { numeric: true });

/**
 * Names are cheap to read (no stat); a directory bigger than this is not read to the end,
 * which bounds memory. Within it, entries are sorted before the cap so the first page is
 * the same on every call.
 */
const MAX_SCANNED_ENTRIES = 100_000;

/** One directory, directories first; symlinks are shown as links, never followed. */
const list: Handler<"files.list"> = async (params, ctx) => {
  const target = await confineToWorkspace(ctx.policy, params.root, params.path);
  const stats = await fs.stat(target.absolute).catch((error: unknown) => {
    throw fsError(error, params.path);
  });
  if (!stats.isDirectory()) throw new KaiError("VALIDATION_ERROR", `${params.path} is not a directory`);

  const names: Array<{ name: string; directory: boolean }> = [];
  let scannedAll = true;
  try {
    for await (const dirent of await fs.opendir(target.absolute)) {
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
  names.sort((a, b) => Number(b.directory) - Number(a.directory) || byName.compare(a.name, b.name));

  const cap = ctx.policy.maxDirectoryEntries;
  const entries: FileEntry[] = [];
  for (const { name } of names.slice(0, cap)) {
    const stat = await fs.lstat(path.join(target.absolute, name)).catch(() => null);
    if (stat === null) continue; // removed since it was read
    entries.push({ name, path: joinRelative(target.relative, name), type: typeOf(stat), size: stat.size, modified: stat.mtime.toISOString() });
  }
  return { path: target.relative, entries, truncated: !scannedAll || names.length > cap };
};

/** One chunk, read at its offset through a file handle: a 25 MiB file is never read whole. */
const read: Handler<"files.read"> = async (params, ctx) => {
  const target = await confineToWorkspace(ctx.policy, params.root, params.path);
  // NOFOLLOW: the path was resolved by confinement, a symlink here now is a swap. NONBLOCK: a
  // FIFO would otherwise block the open until a writer shows up.
  const handle = await fs.open(target.absolute, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch((error: unknown) => {
    throw fsError(error, params.path);
  });
  try {
    const stats = await handle.stat();
    if (stats.isDirectory()) throw new KaiError("VALIDATION_ERROR", `${params.path || "the workspace root"} is a directory; list it instead`);
    if (!stats.isFile()) throw new KaiError("VALIDATION_ERROR", `${params.path} is not a regular file`);
    if (stats.size > MAX_FILE_BYTES) {
      throw new KaiError("PAYLOAD_TOO_LARGE", `${params.path} is ${stats.size} bytes; files larger than ${MAX_FILE_BYTES} bytes cannot be read through Kai`, {
        details: { size: stats.size, maxBytes: MAX_FILE_BYTES },
      });
    }
    if (params.offset > stats.size) throw new KaiError("VALIDATION_ERROR", `offset ${params.offset} is past the end of ${params.path} (${stats.size} bytes)`);
    const data = await readAt(handle, params.offset, Math.min(params.length, stats.size - params.offset));
    const sniffLength = Math.min(SNIFF_BYTES, stats.size);
    const head = params.offset === 0 && data.length >= sniffLength ? data.subarray(0, sniffLength) : await readAt(handle, 0, sniffLength);
    return {
      path: target.relative,
      size: stats.size,
      offset: params.offset,
      data: data.toString("base64"),
      eof: params.offset + data.length >= stats.size,
      ...guessContentType(target.absolute, head, sniffLength === stats.size),
      modified: stats.mtime.toISOString(),
    };
  } catch (error) {
    throw fsError(error, params.path);
  } finally {
    await handle.close();
  }
};

/** One chunk of an upload; see runtime/file-upload.ts for how chunks are ordered and committed. */
const write: Handler<"files.write"> = async (params, ctx) => {
  const data = decodeBase64(params.data);
  if (data.length > FILE_CHUNK_BYTES) {
    throw new KaiError("PAYLOAD_TOO_LARGE", `one chunk carries at most ${FILE_CHUNK_BYTES} bytes`, { details: { maxChunkBytes: FILE_CHUNK_BYTES } });
  }
  const resolveTarget = () => writableTarget(ctx.policy, params.root, params.path, params.createParents);
  try {
    return await writeChunk({ uploadId: params.uploadId, key: `${params.root}\0${params.path}`, index: params.index, data, last: params.last, resolveTarget });
  } catch (error) {
    throw fsError(error, params.path);
  }
};

/**
 * Deletes the entry itself: a symlink is unlinked, never what it points to. The path must
 * still confine as a whole (a link leading out is refused like any other escape), and the
 * workspace root is never deleted.
 */
const remove: Handler<"files.delete"> = async (params, ctx) => {
  const lexical = path.posix.normalize(params.path);
  await confineToWorkspace(ctx.policy, params.root, params.path);
  if (lexical === "." || lexical === "./") throw new KaiError("PERMISSION_DENIED", "the workspace root cannot be deleted");
  // The parent is resolved (symlinks and all), the last component is not: that is the entry.
  const parent = await confineToWorkspace(ctx.policy, params.root, path.posix.dirname(lexical));
  const entry = path.join(parent.absolute, path.posix.basename(lexical));
  const shown = joinRelative(parent.relative, path.posix.basename(lexical));
  try {
    const stats = await fs.lstat(entry);
    if (!stats.isDirectory()) await fs.unlink(entry);
    else if (params.recursive) await fs.rm(entry, { recursive: true }); // rm unlinks symlinks inside, never follows them
    else {
      await fs.rmdir(entry).catch((error: unknown) => {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === "ENOTEMPTY" || code === "EEXIST") throw new KaiError("CONFLICT", `${params.path}: folder is not empty; pass recursive`);
        throw error;
      });
    }
  } catch (error) {
    throw fsError(error, params.path);
  }
  return { path: shown, deleted: true };
};

export const fileHandlers = {
  "files.list": list,
  "files.read": read,
  "files.write": write,
  "files.delete": remove,
} satisfies Pick<Handlers, "files.list" | "files.read" | "files.write" | "files.delete">;

/** The confined target of a write: not a directory, its parent present (or created on request). */
async function writableTarget(policy: Policy, root: string, relative: string, createParents: boolean) {
  const target = await confineToWorkspace(policy, root, relative);
  if (target.relative === "") throw new KaiError("VALIDATION_ERROR", "the workspace root is a directory");
  const existing = await fs.stat(target.absolute).catch(() => null);
  if (existing?.isDirectory()) throw new KaiError("VALIDATION_ERROR", `${relative} is a directory`);
  if (existing && !existing.isFile()) throw new KaiError("VALIDATION_ERROR", `${relative} is not a regular file`);
  const parent = await fs.stat(path.dirname(target.absolute)).catch(() => null);
  if (parent?.isDirectory()) return target;
  if (parent) throw new KaiError("VALIDATION_ERROR", `the parent of ${relative} is not a directory`);
  if (!createParents) throw new KaiError("NOT_FOUND", `the parent folder of ${relative} does not exist; pass createParents`);
  // Created below the real ancestor confinement resolved; confined again in case anything moved meanwhile.
  await fs.mkdir(path.dirname(target.absolute), { recursive: true });
  const again = await confineToWorkspace(policy, root, relative);
  if (again.absolute !== target.absolute) throw new KaiError("CONFLICT", `${relative} changed while its folders were created`);
  return again;
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
  if (data.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(data)) throw new KaiError("VALIDATION_ERROR", "data must be base64");
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
