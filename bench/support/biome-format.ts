import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";

const ROOT = path.resolve(import.meta.dirname, "../..");
/** The project's own Biome, the version whose `biome check` the build test runs. */
const BIOME = path.join(ROOT, "node_modules", "@biomejs", "biome", "bin", "biome");
const execFileAsync = promisify(execFile);

/**
 * Formats a file of the project in place with the project's Biome and settings (a Markdown
 * table's columns padded, say), so what a script wrote passes `biome check`. Run with this
 * Node, no shell; rejects with Biome's output when it fails.
 */
export async function biomeFormat(file: string): Promise<void> {
  try {
    await execFileAsync(process.execPath, [BIOME, "format", "--write", "--colors=off", file], { cwd: ROOT });
  } catch (error) {
    const { code, stdout = "", stderr = "" } = error as { code?: number | string; stdout?: string; stderr?: string };
    throw new Error(`biome format exited with ${code ?? "no code"}: ${`${stdout}\n${stderr}`.trim()}`);
  }
}
