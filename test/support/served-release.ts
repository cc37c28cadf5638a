import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import type { AgentManifest } from "../../scripts/agent-bundle";
import { ROOT } from "./edge-server";

/** Where the Worker serves the kai-agent release from (web/dist/agent: `npm run build:web` writes it). */
export const RELEASE_DIR = path.join(ROOT, "web", "dist", "agent");

/**
 * The manifest of the release a started edge serves. `npm test` builds it before any test runs;
 * a test never rebuilds it, since another test may be downloading it at that moment.
 */
export async function servedRelease(): Promise<AgentManifest> {
  const file = path.join(RELEASE_DIR, "kai-agent.json");
  if (!existsSync(file))
    throw new Error(`${file} is missing: run npm run build:web first (the edge serves the agent release from it)`);
  return JSON.parse(await readFile(file, "utf8")) as AgentManifest;
}
