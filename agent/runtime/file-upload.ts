import { constants } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { KaiError } from "../../shared/errors";
import { MAX_FILE_BYTES } from "../../shared/schemas/workspace";

/**
 * Chunked, atomic file writes. Chunk 0 of an upload creates a temporary file beside the
 * target (`.<name>.kai-<uploadId>.part`, exclusive create); later chunks append in order;
 * the last one fsyncs and renames it over the target, so a reader never sees half a file.
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
  temp: string;
  /** The real path the last chunk renames onto, fixed at chunk 0, and the same relative to the workspace. */
  target: string;
  relative: string;
  nextIndex: number;
  size: number;
  busy: boolean;
  timer: NodeJS.Timeout | undefined;
}

const uploads = new Map<string, Upload>();

export interface ChunkRequest {
  uploadId: string;
  key: string;
  index: number;
  data: Buffer;
  last: boolean;
  /**
   * Confines and checks the target (and creates its parents when asked), answering its real
   * path. Called at chunk 0, and again at the last chunk to make sure the target still
   * resolves to the same place before anything is renamed onto it.
   */
  resolveTarget: () => Promise<{ absolute: string; relative: string }>;
}

/** Appends one chunk; answers the target, the upload's size so far and whether the file is now in place. */
export async function writeChunk(request: ChunkRequest): Promise<{ path: string; size: number; written: boolean }> {
  const upload = request.index === 0 ? await begin(request) : claim(request);
  try {
    if (upload.size + request.data.length > MAX_FILE_BYTES) {
      throw new KaiError("PAYLOAD_TOO_LARGE", `the file would be larger than ${MAX_FILE_BYTES} bytes, the most this host accepts`, {
        details: { maxBytes: MAX_FILE_BYTES },
      });
    }
    await append(upload, request.data, request.last);
    upload.size += request.data.length;
    upload.nextIndex += 1;
    if (!request.last) {
      upload.busy = false;
      touch(upload);
      return { path: upload.relative, size: upload.size, written: false };
    }
    const target = await request.resolveTarget();
    if (target.absolute !== upload.target) throw new KaiError("CONFLICT", "the target path changed while the upload was in progress; upload again");
    await replace(upload.temp, upload.target);
    forget(upload);
    return { path: upload.relative, size: upload.size, written: true };
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
  const { absolute: target, relative } = await request.resolveTarget();
  // The temp name keeps a bounded slice of the target's name: names are limited to 255 bytes.
  const temp = path.join(path.dirname(target), `.${path.basename(target).slice(0, 100)}.kai-${request.uploadId}.part`);
  // Exclusive create: never opens (or follows) anything already there.
  await (await fs.open(temp, "wx", 0o666)).close();
  const upload: Upload = { id: request.uploadId, key: request.key, temp, target, relative, nextIndex: 0, size: 0, busy: true, timer: undefined };
  uploads.set(upload.id, upload);
  return upload;
}

function claim(request: ChunkRequest): Upload {
  const upload = uploads.get(request.uploadId);
  if (!upload) {
    throw new KaiError("CONFLICT", "unknown upload (it expired, failed or the agent restarted); start again from chunk 0", {
      details: { expectedIndex: 0 },
    });
  }
  if (upload.key !== request.key) throw new KaiError("CONFLICT", "this upload id belongs to another path");
  if (upload.busy) throw outOfOrder(upload, request.index, "the previous chunk is still being written");
  if (request.index !== upload.nextIndex) throw outOfOrder(upload, request.index, `expected chunk ${upload.nextIndex}`);
  upload.busy = true;
  return upload;
}

async function append(upload: Upload, data: Buffer, last: boolean): Promise<void> {
  const handle = await fs.open(upload.temp, constants.O_WRONLY | constants.O_APPEND | constants.O_NOFOLLOW);
  try {
    // Someone else writing into our temp file would corrupt the result silently.
    if ((await handle.stat()).size !== upload.size) throw new KaiError("CONFLICT", "the upload's temporary file was changed by someone else");
    if (data.length > 0) await handle.writeFile(data);
    if (last) await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Renames the finished temp file over the target, keeping an existing file's permissions. */
async function replace(temp: string, target: string): Promise<void> {
  const previous = await fs.lstat(target).catch(() => null);
  if (previous?.isFile()) await fs.chmod(temp, previous.mode & 0o7777);
  await fs.rename(temp, target);
  // The rename is durable only once the directory entry is synced; best effort (not every fs can).
  const dir = await fs.open(path.dirname(target), constants.O_RDONLY).catch(() => null);
  await dir?.sync().catch(() => undefined);
  await dir?.close();
}

function touch(upload: Upload): void {
  clearTimeout(upload.timer);
  upload.timer = setTimeout(() => {
    if (upload.busy) touch(upload);
    else void discard(upload);
  }, UPLOAD_IDLE_MS);
  // An upload nobody finishes must not keep the agent alive.
  upload.timer.unref();
}

function forget(upload: Upload): void {
  clearTimeout(upload.timer);
  uploads.delete(upload.id);
}

async function discard(upload: Upload): Promise<void> {
  forget(upload);
  await fs.rm(upload.temp, { force: true }).catch(() => undefined);
}

function outOfOrder(upload: Upload, index: number, why: string): KaiError {
  return new KaiError("CONFLICT", `chunk ${index} refused: ${why}`, { details: { expectedIndex: upload.nextIndex } });
}
