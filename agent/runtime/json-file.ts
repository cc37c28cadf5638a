import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { KaiError } from "../../shared/errors";
import { errnoCode } from "../policy";

/**
 * JSON object files in a workspace (package.json, .claude/settings.json, .mcp.json).
 * Paths here are already confined by the caller; `label` is the workspace-relative name
 * used in messages, so a host path never reaches the client.
 */

/** The file's top-level object, or null when it does not exist. Not JSON, or not an object: VALIDATION_ERROR naming the file. */
export async function readJsonObject(file: string, label: string): Promise<Record<string, unknown> | null> {
  let text: string;
  try {
    text = await fs.readFile(file, "utf8");
  } catch (error) {
    if (errnoCode(error) === "ENOENT") return null;
    if (errnoCode(error) === "EISDIR") throw new KaiError("VALIDATION_ERROR", `${label} is a directory, not a JSON file`);
    throw new KaiError("INTERNAL_ERROR", `cannot read ${label} (${errnoCode(error) ?? "unknown error"})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new KaiError("VALIDATION_ERROR", `${label} is not valid JSON: ${error instanceof Error ? error.message : String(error)}`, { details: { file: label } });
  }
  if (!isPlainObject(json)) throw new KaiError("VALIDATION_ERROR", `${label} must hold a JSON object`, { details: { file: label } });
  return json;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Writes `value` as pretty JSON with a trailing newline, atomically: a temporary file in the
 * same directory (same filesystem, so rename is atomic), fsync'd, then renamed over the
 * target. A reader sees the old file or the new one, never half of one; a crash leaves at
 * most a stray `.*.tmp`. An existing file's mode is kept (.mcp.json may hold API keys and
 * be 0600 on purpose). The temp file is created with O_EXCL, so a planted symlink there
 * cannot redirect the write.
 */
export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  const dir = path.dirname(file);
  const temp = path.join(dir, `.${path.basename(file)}.${randomBytes(6).toString("hex")}.tmp`);
  const existingMode = await fs.stat(file).then((stat) => stat.mode & 0o7777, () => null);
  // A new file gets the usual 0666 less the umask, as any editor would create it.
  const handle = await fs.open(temp, "wx", existingMode ?? 0o666);
  try {
    try {
      await handle.writeFile(`${JSON.stringify(value, null, 2)}\n`, "utf8");
      // open() applied the umask; chmod makes a kept mode exact.
      if (existingMode !== null) await handle.chmod(existingMode);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(temp, file);
  } catch (error) {
    await fs.rm(temp, { force: true });
    throw error;
  }
  // Make the rename itself durable; some filesystems refuse to fsync a directory, which only costs durability.
  const dirHandle = await fs.open(dir, "r").catch(() => null);
  await dirHandle?.sync().catch(() => undefined);
  await dirHandle?.close();
}
