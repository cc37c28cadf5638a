import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import fs from "node:fs/promises";
import { KaiError, messageOf } from "../../../shared/errors";
import { jsonNesting, MAX_JSON_DEPTH } from "../../../shared/json-depth";
import { at, type Folder, locate, self, type Workspace } from "./confined-fs";
import { errnoCode } from "./errors";

/**
 * JSON object files in a workspace (package.json, .claude/settings.json, .mcp.json), read
 * and written through runtime/confined-fs.ts: relative to a verified folder handle, never
 * by a path that could be swapped meanwhile. `label` is the workspace-relative name used
 * in messages, so a host path never reaches the client.
 */

/**
 * The file's top-level object, or null when it (or its folder) does not exist. Leading out
 * of the workspace: PERMISSION_DENIED. Not JSON, or not an object: VALIDATION_ERROR naming the file.
 */
export async function readJsonObject(
  workspace: Workspace,
  relative: string,
  label: string,
): Promise<Record<string, unknown> | null> {
  let found;
  try {
    found = await locate(workspace, relative, { follow: true });
  } catch (error) {
    if (error instanceof KaiError && error.code === "NOT_FOUND") return null;
    throw error;
  }
  try {
    return found.entry === null ? null : await readJsonAt(found.folder, found.name, label);
  } finally {
    await found.close();
  }
}

/** `name` in a verified folder, as readJsonObject reads it; a symlink there now is refused. */
export async function readJsonAt(folder: Folder, name: string, label: string): Promise<Record<string, unknown> | null> {
  let text: string;
  try {
    const handle = await fs.open(at(folder, name), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    try {
      const stats = await handle.stat();
      if (stats.isDirectory()) throw new KaiError("VALIDATION_ERROR", `${label} is a directory, not a JSON file`);
      if (!stats.isFile()) throw new KaiError("VALIDATION_ERROR", `${label} is not a regular file`);
      text = await handle.readFile("utf8");
    } finally {
      await handle.close();
    }
  } catch (error) {
    if (error instanceof KaiError) throw error;
    const code = errnoCode(error);
    if (code === "ENOENT") return null;
    if (code === "EISDIR") throw new KaiError("VALIDATION_ERROR", `${label} is a directory, not a JSON file`);
    // O_NOFOLLOW met a symlink: the walk had found a file, so it was swapped since.
    if (code === "ELOOP") throw new KaiError("CONFLICT", `${label} changed while it was being read; try again`);
    if (code === "EACCES" || code === "EPERM")
      throw new KaiError("PERMISSION_DENIED", `${label}: permission denied on this host`);
    throw new KaiError("INTERNAL_ERROR", `cannot read ${label} (${code ?? "unknown error"})`);
  }
  // Parsing copes with any depth; answering the object (JSON.stringify) would overflow the stack.
  if (jsonNesting(text, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
    throw new KaiError("VALIDATION_ERROR", `${label} is nested deeper than ${MAX_JSON_DEPTH} levels; flatten it`, {
      details: { file: label },
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new KaiError("VALIDATION_ERROR", `${label} is not valid JSON: ${messageOf(error)}`, {
      details: { file: label },
    });
  }
  if (!isPlainObject(json))
    throw new KaiError("VALIDATION_ERROR", `${label} must hold a JSON object`, { details: { file: label } });
  return json;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Writes `value` as `name` in a verified folder, as pretty JSON with a trailing newline,
 * atomically: a temporary file in the same folder (same filesystem, so rename is atomic),
 * fsync'd, then renamed over the target. A reader sees the old file or the new one, never
 * half of one; a crash leaves at most a stray `.*.tmp`. An existing file's mode is kept
 * (.mcp.json may hold API keys and be 0600 on purpose). The temp file is created with
 * O_EXCL|O_NOFOLLOW, and it and the rename name the folder by its handle, so neither a
 * planted symlink nor a swapped folder can redirect the write.
 */
export async function writeJsonAtomic(folder: Folder, name: string, value: unknown): Promise<void> {
  const temp = `.${name}.${randomBytes(6).toString("hex")}.tmp`;
  const existing = await fs.lstat(at(folder, name)).catch(() => null);
  const existingMode = existing?.isFile() ? existing.mode & 0o7777 : null;
  // A new file gets the usual 0666 less the umask, as any editor would create it.
  const handle = await fs.open(
    at(folder, temp),
    constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
    existingMode ?? 0o666,
  );
  try {
    try {
      await handle.writeFile(`${JSON.stringify(value, null, 2)}\n`, "utf8");
      // open() applied the umask; chmod makes a kept mode exact.
      if (existingMode !== null) await handle.chmod(existingMode);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(at(folder, temp), at(folder, name));
  } catch (error) {
    await fs.unlink(at(folder, temp)).catch(() => undefined);
    throw error;
  }
  // Make the rename itself durable; some filesystems refuse to fsync a directory, which only costs durability.
  const dirHandle = await fs
    .open(self(folder.handle, folder.real), constants.O_RDONLY | constants.O_DIRECTORY)
    .catch(() => null);
  await dirHandle?.sync().catch(() => undefined);
  await dirHandle?.close();
}
