import { constants } from "node:fs";
import fs from "node:fs/promises";
import { KaiError } from "../../../shared/errors";
import { MAX_FILE_BYTES } from "../../../shared/schemas/command-params";
import { at, type Folder, self } from "./confined-fs";

/**
 * Chunked, atomic file writes. Chunk 0 of an upload creates a temporary file beside the
 * target (`.<name>.kai-<uploadId>.part`, exclusive create); later chunks append in order;
 * the last one fsyncs and renames it over the target, so a reader never sees half a file.
 * The upload holds an open handle on the target's folder from chunk 0 on, and every
 * create, append and rename names the file relative to that handle (runtime/confined-fs.ts),
 * so a folder swapped for a symlink meanwhile cannot send any of them outside the workspace.
 *
 * Which chunk comes next lives in memory, keyed by upload id: chunk sizes vary, so the temp
 * file's size alone cannot say. An agent restart forgets its uploads (the edge must start
 * again from chunk 0); an upload idle for UPLOAD_IDLE_MS is dropped and its temp file removed.
 */

export const UPLOAD_IDLE_MS = 10 * 60_000;

interface Upload {
  id: string;
  /** The workspace root and path the upload was started for; every chunk must name the same. */
  key: string;
  /** The temp file's name in `target.folder`. */
  temp: string;
  /** Where the last chunk renames onto, fixed at chunk 0; the upload owns (and closes) the folder's handle. */
  target: UploadTarget;
  nextIndex: number;
  size: number;
  busy: boolean;
  timer: NodeJS.Timeout | undefined;
}

const uploads = new Map<string, Upload>();

/** The file `name` in an open, verified folder; `relative` is its workspace path after symlinks. */
export interface UploadTarget {
  folder: Folder;
  name: string;
  relative: string;
}

export interface ChunkRequest {
  uploadId: string;
  key: string;
  index: number;
  data: Buffer;
  last: boolean;
  /**
   * Confines and checks the target (and creates its parents when asked), answering its
   * folder's handle, which the caller hands over. Called at chunk 0, and again at the last
   * chunk to make sure the path still leads to the same folder before anything is renamed.
   */
  resolveTarget: () => Promise<UploadTarget>;
}

/** Appends one chunk; answers the target, the upload's size so far and whether the file is now in place. */
export async function writeChunk(request: ChunkRequest): Promise<{ path: string; size: number; written: boolean }> {
  const upload = request.index === 0 ? await begin(request) : claim(request);
  try {
    if (upload.size + request.data.length > MAX_FILE_BYTES) {
      throw new KaiError(
        "PAYLOAD_TOO_LARGE",
        `the file would be larger than ${MAX_FILE_BYTES} bytes, the most this host accepts`,
        {
          details: { maxBytes: MAX_FILE_BYTES },
        },
      );
    }
    await append(upload, request.data, request.last);
    upload.size += request.data.length;
    upload.nextIndex += 1;
    if (!request.last) {
      upload.busy = false;
      touch(upload);
      return { path: upload.target.relative, size: upload.size, written: false };
    }
    const again = await request.resolveTarget();
    let same: boolean;
    try {
      same = again.relative === upload.target.relative && (await sameFolder(again.folder, upload.target.folder));
    } finally {
      await again.folder.handle.close();
    }
    if (!same) throw new KaiError("CONFLICT", "the target path changed while the upload was in progress; upload again");
    await replace(upload);
    await forget(upload);
    return { path: upload.target.relative, size: upload.size, written: true };
  } catch (error) {
    // Any failure past the order check ends the upload: a half-appended chunk cannot be retried.
    await discard(upload);
    throw error;
  }
}

/** How many uploads are waiting for their next chunk (for tests and diagnostics). */
export function pendingUploads(): number {
  return uploads.size;
}

async function begin(request: ChunkRequest): Promise<Upload> {
  const existing = uploads.get(request.uploadId);
  if (existing) throw outOfOrder(existing, 0, "this upload has already started");
  const target = await request.resolveTarget();
  // The temp name keeps a bounded slice of the target's name: names are limited to 255 bytes.
  const temp = `.${target.name.slice(0, 100)}.kai-${request.uploadId}.part`;
  try {
    // Exclusive create: never opens (or follows) anything already there.
    await (
      await fs.open(
        at(target.folder, temp),
        constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
        0o666,
      )
    ).close();
  } catch (error) {
    await target.folder.handle.close();
    throw error;
  }
  const upload: Upload = {
    id: request.uploadId,
    key: request.key,
    temp,
    target,
    nextIndex: 0,
    size: 0,
    busy: true,
    timer: undefined,
  };
  uploads.set(upload.id, upload);
  return upload;
}

function claim(request: ChunkRequest): Upload {
  const upload = uploads.get(request.uploadId);
  if (!upload) {
    throw new KaiError(
      "CONFLICT",
      "unknown upload (it expired, failed or the agent restarted); start again from chunk 0",
      {
        details: { expectedIndex: 0 },
      },
    );
  }
  if (upload.key !== request.key) throw new KaiError("CONFLICT", "this upload id belongs to another path");
  if (upload.busy) throw outOfOrder(upload, request.index, "the previous chunk is still being written");
  if (request.index !== upload.nextIndex) throw outOfOrder(upload, request.index, `expected chunk ${upload.nextIndex}`);
  upload.busy = true;
  return upload;
}

async function append(upload: Upload, data: Buffer, last: boolean): Promise<void> {
  const handle = await fs.open(
    at(upload.target.folder, upload.temp),
    constants.O_WRONLY | constants.O_APPEND | constants.O_NOFOLLOW,
  );
  try {
    // Someone else writing into our temp file would corrupt the result silently.
    if ((await handle.stat()).size !== upload.size)
      throw new KaiError("CONFLICT", "the upload's temporary file was changed by someone else");
    if (data.length > 0) await handle.writeFile(data);
    if (last) await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Renames the finished temp file over the target, keeping an existing file's permissions. */
async function replace(upload: Upload): Promise<void> {
  const { folder, name } = upload.target;
  const previous = await fs.lstat(at(folder, name)).catch(() => null);
  if (previous?.isFile()) {
    // Through a handle on the temp file itself: chmod by name would follow a symlink put there.
    const temp = await fs.open(at(folder, upload.temp), constants.O_WRONLY | constants.O_NOFOLLOW);
    await temp.chmod(previous.mode & 0o7777).finally(() => temp.close());
  }
  await fs.rename(at(folder, upload.temp), at(folder, name));
  // The rename is durable only once the directory entry is synced; best effort (not every fs can).
  const dir = await fs
    .open(self(folder.handle, folder.real), constants.O_RDONLY | constants.O_DIRECTORY)
    .catch(() => null);
  await dir?.sync().catch(() => undefined);
  await dir?.close();
}

/** True when both handles hold the same folder (dev, ino). */
async function sameFolder(a: Folder, b: Folder): Promise<boolean> {
  const [x, y] = await Promise.all([a.handle.stat(), b.handle.stat()]);
  return x.dev === y.dev && x.ino === y.ino;
}

function touch(upload: Upload): void {
  clearTimeout(upload.timer);
  upload.timer = setTimeout(() => {
    if (upload.busy) touch(upload);
    else void discard(upload).catch(() => undefined);
  }, UPLOAD_IDLE_MS);
  // An upload nobody finishes must not keep the agent alive.
  upload.timer.unref();
}

async function forget(upload: Upload): Promise<void> {
  clearTimeout(upload.timer);
  uploads.delete(upload.id);
  await upload.target.folder.handle.close().catch(() => undefined);
}

async function discard(upload: Upload): Promise<void> {
  // Only once: an upload already forgotten has its folder handle closed.
  if (uploads.get(upload.id) !== upload) return;
  clearTimeout(upload.timer);
  uploads.delete(upload.id);
  // Relative to the held folder: a swapped path cannot make this remove anything elsewhere.
  await fs.unlink(at(upload.target.folder, upload.temp)).catch(() => undefined);
  await upload.target.folder.handle.close().catch(() => undefined);
}

function outOfOrder(upload: Upload, index: number, why: string): KaiError {
  return new KaiError("CONFLICT", `chunk ${index} refused: ${why}`, { details: { expectedIndex: upload.nextIndex } });
}
