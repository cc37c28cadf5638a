import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { buildAgentBundle } from "../../scripts/agent-bundle";

/** The version old-agent bundles report: older than any release the edge serves. */
export const OLD_AGENT_VERSION = "0.0.9";

/**
 * Builds a kai-agent bundle that reports OLD_AGENT_VERSION, the way a machine that installed an
 * older release has one: run it with plain Node. Written to `outfile`, or to a fresh temporary
 * folder with no node_modules in reach; resolves with its path.
 */
export async function buildOldAgent(outfile?: string): Promise<string> {
  const bundle = outfile ?? path.join(await mkdtemp(path.join(os.tmpdir(), "kai-old-agent-")), "kai-agent.mjs");
  await buildAgentBundle(bundle, { version: OLD_AGENT_VERSION });
  return bundle;
}
