import { execFile } from "node:child_process";
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { ROOT } from "./edge-server";

/** The version old-agent bundles report: older than any release the edge serves. */
export const OLD_AGENT_VERSION = "0.0.9";

/**
 * Builds a kai-agent bundle that reports `version`, the way a machine that installed an older
 * release has one: run it with plain Node (AgentProcess's `bundle`). Returns the bundle's path,
 * in a fresh temporary folder with no node_modules in reach.
 */
export async function buildOldAgent(version = OLD_AGENT_VERSION): Promise<string> {
  const bundle = path.join(await mkdtemp(path.join(os.tmpdir(), "kai-old-agent-")), "kai-agent.mjs");
  await promisify(execFile)(
    process.execPath,
    ["--import", "tsx", path.join(ROOT, "scripts/build-agent.ts"), "--outfile", bundle, "--version", version],
    { cwd: ROOT },
  );
  return bundle;
}
