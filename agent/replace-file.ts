import fs from "node:fs/promises";
import path from "node:path";

/**
 * Replaces `file` with `data` so that a reader sees the old file or the new one, never a part:
 * a temporary file beside it (same directory, so the same filesystem), written and fsynced,
 * optionally checked, then renamed over it, and the directory fsynced so the rename survives a
 * crash. On any failure the temporary file is removed and `file` is untouched.
 */
export async function replaceFile(
  file: string,
  data: string | Uint8Array,
  options: { mode: number; check?: (temporary: string) => Promise<void> },
): Promise<void> {
  const directory = path.dirname(file);
  // The bundle's own extension: Node decides ESM by it when `check` runs the new file.
  const temporary = path.join(
    directory,
    `.${path.basename(file, path.extname(file))}.${process.pid}.tmp${path.extname(file)}`,
  );
  try {
    const handle = await fs.open(temporary, "wx", options.mode);
    try {
      await handle.writeFile(data);
      // The umask may have taken bits away from the mode asked for.
      await handle.chmod(options.mode);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await options.check?.(temporary);
    await fs.rename(temporary, file);
  } catch (error) {
    await fs.rm(temporary, { force: true });
    throw error;
  }
  const dir = await fs.open(directory, "r");
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
