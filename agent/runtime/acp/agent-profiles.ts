import { constants } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { KaiError } from "../../../shared/errors";
import { type AgentProfileInfo, agentProfileName } from "../../../shared/schemas/agent-profiles";
import { childEnv } from "../process/child-env";

/**
 * A coding agent the host's owner allows for agent sessions: a command speaking ACP on stdio.
 * Its `env` is merged over the agent's child environment and never leaves the host.
 */
export interface AgentProfile {
  name: string;
  /** The command as configured (shown to the edge). */
  command: string;
  /** The command resolved on PATH at load (what is spawned). */
  executable: string;
  args: string[];
  env: Record<string, string>;
  default: boolean;
}

const profileEntry = z
  .object({
    command: z.string().min(1).max(255),
    args: z.array(z.string().max(1024)).max(64).optional(),
    env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "an environment variable name"), z.string()).optional(),
  })
  .strict();

/** The policy file's profile fields (spread into its schema). */
export const agentProfilesFileSchema = {
  agentProfiles: z
    .record(agentProfileName, profileEntry)
    .refine((profiles) => Object.keys(profiles).length <= 32, { message: "at most 32 profiles" })
    .optional(),
  defaultAgentProfile: agentProfileName.optional(),
};

type ProfilesFile = {
  agentProfiles?: Record<string, z.infer<typeof profileEntry>>;
  defaultAgentProfile?: string;
  scripts?: boolean;
};

/**
 * Offered when the policy file names no profiles (and does not turn scripts off), each only
 * when its command is on PATH: the ACP adapters of Claude Code and Codex, and Gemini CLI's
 * own ACP mode.
 */
const BUILT_IN_PROFILES: Record<string, { command: string; args: string[] }> = {
  claude: { command: "claude-agent-acp", args: [] },
  codex: { command: "codex-acp", args: [] },
  gemini: { command: "gemini", args: ["--acp"] },
};

/**
 * The profiles of a parsed policy file, each command resolved on PATH now. A configured
 * profile whose command is missing is left out with a warning (the host still serves
 * everything else); the default is the one the file names, else the first available.
 */
export async function resolveAgentProfiles(
  parsed: ProfilesFile,
  file: string,
  options: { warn?: (message: string) => void; path?: string },
): Promise<AgentProfile[]> {
  const configured = parsed.agentProfiles !== undefined && Object.keys(parsed.agentProfiles).length > 0;
  // A coding agent runs commands with the user's full rights, as a script does: an owner who
  // turned scripts off gets no built-in agents either, only the profiles the file names.
  const builtIns = parsed.scripts === false ? {} : BUILT_IN_PROFILES;
  const entries = Object.entries(configured ? (parsed.agentProfiles ?? {}) : builtIns);
  const searchPath = options.path ?? childEnv().PATH ?? "";
  const profiles: AgentProfile[] = [];
  for (const [name, entry] of entries) {
    const executable = await findExecutable(entry.command, searchPath);
    if (!executable) {
      // Built-ins are offers, not promises: only a profile the owner wrote is worth a warning.
      if (configured)
        options.warn?.(`policy file ${file}: agent profile "${name}": ${entry.command} not found; profile left out`);
      continue;
    }
    const env = "env" in entry ? (entry.env ?? {}) : {};
    profiles.push({ name, command: entry.command, executable, args: entry.args ?? [], env, default: false });
  }
  const wanted = parsed.defaultAgentProfile;
  const chosen = profiles.find((profile) => profile.name === wanted) ?? profiles[0];
  if (wanted && chosen?.name !== wanted)
    options.warn?.(`policy file ${file}: defaultAgentProfile "${wanted}" is not an available profile`);
  if (chosen) chosen.default = true;
  return profiles;
}

/** The profile named (or the default one); NOT_FOUND tells the caller where profiles are configured. */
export function findAgentProfile(profiles: AgentProfile[], name: string | undefined, file?: string): AgentProfile {
  const profile = name === undefined ? profiles.find((each) => each.default) : profiles.find((p) => p.name === name);
  if (profile) return profile;
  const where = file ?? "kai-agent's policy file (agent-policy.json)";
  throw new KaiError(
    "NOT_FOUND",
    name === undefined
      ? `no agent profile on this host; the host's owner configures profiles in ${where}`
      : `no agent profile '${name}' on this host; the host's owner configures profiles in ${where}`,
  );
}

/** What the edge learns of the profiles (hello): what runs, never its environment. */
export function agentProfileInfos(profiles: AgentProfile[]): AgentProfileInfo[] {
  return profiles.map(({ name, command, args, default: isDefault }) => ({ name, command, args, default: isDefault }));
}

async function findExecutable(command: string, searchPath: string): Promise<string | undefined> {
  const candidates = command.includes("/")
    ? [path.resolve(command)]
    : searchPath
        .split(path.delimiter)
        .filter((dir) => path.isAbsolute(dir))
        .map((dir) => path.join(dir, command));
  for (const candidate of candidates) {
    try {
      await fs.access(candidate, constants.X_OK);
      if ((await fs.stat(candidate)).isFile()) return candidate;
    } catch {
      // not here; try the next PATH entry
    }
  }
  return undefined;
}
