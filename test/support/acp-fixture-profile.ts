import path from "node:path";
import { pathToFileURL } from "node:url";
import type { AgentProfile } from "../../agent/runtime/acp/agent-profiles";

/** The scripted ACP agent's profile, without vitest: the benchmarks start it too. */

const REPO = path.join(import.meta.dirname, "..", "..");
const FIXTURE = path.join(REPO, "test", "fixtures", "acp-agent.ts");
/** tsx's loader by absolute path: the agent runs in a workspace, where `tsx` alone resolves to nothing. */
const TSX_LOADER = pathToFileURL(path.join(REPO, "node_modules", "tsx", "dist", "loader.mjs")).href;

/**
 * A profile that runs the scripted ACP agent (test/fixtures/acp-agent.ts) as a real child
 * process: node itself with tsx's loader, so the pid kai-agent knows is the agent's own.
 */
export function fixtureProfile(env: Record<string, string> = {}, name = "fixture"): AgentProfile {
  return {
    name,
    command: process.execPath,
    executable: process.execPath,
    args: ["--import", TSX_LOADER, FIXTURE],
    env,
    default: true,
  };
}

/** kai-agent's policy-file fields that offer the fixture as the host's only agent profile. */
export function fixturePolicy(env: Record<string, string> = {}) {
  const { command, args } = fixtureProfile(env);
  return { agentProfiles: { fixture: { command, args, env } } };
}
