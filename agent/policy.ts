import { realpathSync } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { z } from "zod";
import type { containerSecurityOptions } from "../shared/commands";
import { KaiError, messageOf } from "../shared/errors";
import { type AgentProfile, agentProfilesFileSchema, resolveAgentProfiles } from "./runtime/acp/agent-profiles";
import { errnoCode } from "./runtime/fs/errors";

// Path confinement lives with the file system code that enforces it; the policy only supplies the roots.
export { confinePath, isInsideRoot } from "./runtime/fs/confine-path";

/**
 * The agent's local policy. The edge is trusted only as far as this allows: whatever a
 * request says, host paths stay inside `allowedRoots` and containers get no host powers.
 */
export interface Policy {
  /** Real paths (symlinks resolved) of the directories the edge may see and bind. */
  allowedRoots: string[];
  /** The most entries one `directory.list` answers; the rest is reported as `truncated`. */
  maxDirectoryEntries: number;
  /**
   * Whether `scripts.list` / `scripts.run` may run a workspace's scripts, and `openspec.run`
   * the OpenSpec CLI over its files. Either runs as the agent's user with all of that user's
   * rights, beyond anything `allowedRoots` bounds.
   * `loadPolicy` always sets it; absent (a policy built in code) means allowed, the default.
   */
  scripts?: boolean;
  /**
   * The coding agents (agent sessions) this host's owner allows, each found on PATH at load;
   * the edge can only name one. Absent (a policy built in code): none.
   */
  agentProfiles?: AgentProfile[];
  /**
   * The owner's own limits on agent sessions (`"agentSessions"` in the file, in seconds); each
   * one absent keeps kai-agent's default (approvals 10 minutes, turns 30 minutes).
   */
  agentSessionTimeouts?: AgentSessionTimeouts;
  /** The policy file it was read from, named in messages that tell the owner what to change. */
  file?: string;
}

interface AgentSessionTimeouts {
  /** How long a permission request waits for an answer before it is rejected. */
  approvalTimeoutMs?: number;
  /** The longest a turn may run before it is cancelled. */
  turnTimeoutMs?: number;
}

export type ContainerSecurityOptions = z.infer<typeof containerSecurityOptions>;

const DEFAULT_MAX_DIRECTORY_ENTRIES = 1000;

/** Safe defaults: the user's home only. */
export function defaultPolicy(): Policy {
  const home = os.homedir();
  let root = home;
  try {
    root = realpathSync.native(home);
  } catch {
    // A missing home still confines to that path; confinePath re-resolves roots anyway.
  }
  return { allowedRoots: [root], maxDirectoryEntries: DEFAULT_MAX_DIRECTORY_ENTRIES, scripts: DEFAULT_SCRIPTS };
}

/**
 * Scripts stay on unless the policy file says `"scripts": false`: turning them off by
 * default would break every existing host whose workspaces rely on them, silently from the
 * API user's point of view. The README says plainly what "on" means.
 */
const DEFAULT_SCRIPTS = true;

/** `$XDG_CONFIG_HOME/kai/agent-policy.json`, or `~/.config/kai/agent-policy.json`. */
export function defaultPolicyFile(): string {
  const config = process.env.XDG_CONFIG_HOME || path.join(os.homedir(), ".config");
  return path.join(config, "kai", "agent-policy.json");
}

const rootEntry = z
  .string()
  .min(1)
  .refine((value) => !value.includes("\0"), { message: "must not contain NUL" })
  .refine((value) => path.isAbsolute(value) || value === "~" || value.startsWith("~/"), {
    message: "must be an absolute path (or start with ~/)",
  });

/** A day: past that, a limit is no limit; below a second, no agent could answer. */
const MAX_TIMEOUT_SECONDS = 86_400;
const timeoutSeconds = (what: string) =>
  z
    .number({ message: `must be a number of seconds (how long ${what})` })
    .int({ message: "must be a whole number of seconds" })
    .min(1, { message: "must be at least 1 second" })
    .max(MAX_TIMEOUT_SECONDS, { message: `must be at most ${MAX_TIMEOUT_SECONDS} seconds (24 hours)` });

const agentSessionsEntry = z
  .object({
    approvalTimeoutSeconds: timeoutSeconds("a tool call waits for approval before it is rejected").optional(),
    turnTimeoutSeconds: timeoutSeconds("a turn may run before it is cancelled").optional(),
  })
  .strict()
  .refine(
    ({ approvalTimeoutSeconds, turnTimeoutSeconds }) =>
      approvalTimeoutSeconds === undefined ||
      turnTimeoutSeconds === undefined ||
      approvalTimeoutSeconds <= turnTimeoutSeconds,
    {
      message:
        "approvalTimeoutSeconds is longer than turnTimeoutSeconds, so no approval could ever expire; " +
        "make it shorter or the turn timeout longer",
    },
  );

const policyFileSchema = z
  .object({
    allowedRoots: z.array(rootEntry).min(1, { message: "must list at least one directory" }).optional(),
    maxDirectoryEntries: z.number().int().min(1).max(100_000).optional(),
    scripts: z.boolean().optional(),
    ...agentProfilesFileSchema,
    agentSessions: agentSessionsEntry.optional(),
  })
  .strict();

/**
 * Reads the policy file (JSON: `{"allowedRoots": [...], "maxDirectoryEntries": n, "scripts":
 * true|false, "agentProfiles": {...}, "defaultAgentProfile": "name", "agentSessions":
 * {"approvalTimeoutSeconds": n, "turnTimeoutSeconds": n}}`, all optional). A missing
 * file means the defaults; anything invalid throws an Error naming the file and the field, so
 * the agent refuses to start rather than run with a policy nobody wrote.
 */
export async function loadPolicy(file: string = defaultPolicyFile(), options: LoadOptions = {}): Promise<Policy> {
  let text: string;
  try {
    text = await fs.readFile(file, "utf8");
  } catch (error) {
    if (errnoCode(error) === "ENOENT")
      return { ...defaultPolicy(), file, agentProfiles: await resolveAgentProfiles({}, file, options) };
    throw new Error(`policy file ${file}: cannot read it (${errnoCode(error) ?? String(error)})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`policy file ${file}: not valid JSON (${messageOf(error)})`);
  }
  const parsed = policyFileSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      // An unknown key is reported at the object; name the key itself, it is the likely typo.
      const keys = issue.code === "unrecognized_keys" ? issue.keys.join(", ") : "";
      return `field "${keys || fieldName(issue.path) || "(top level)"}": ${issue.message}`;
    });
    throw new Error(`policy file ${file}: ${problems.join("; ")}`);
  }
  const defaults = defaultPolicy();
  const roots: string[] = [];
  for (const [index, root] of (parsed.data.allowedRoots ?? defaults.allowedRoots).entries()) {
    const expanded = root === "~" || root.startsWith("~/") ? path.join(os.homedir(), root.slice(1)) : root;
    try {
      const real = await fs.realpath(expanded);
      if (!(await fs.stat(real)).isDirectory()) throw new Error("not a directory");
      if (!roots.includes(real)) roots.push(real);
    } catch (error) {
      const reason = errnoCode(error) === "ENOENT" ? "does not exist" : (errnoCode(error) ?? messageOf(error));
      throw new Error(`policy file ${file}: field "allowedRoots[${index}]": ${root} ${reason}`);
    }
  }
  return {
    allowedRoots: roots,
    maxDirectoryEntries: parsed.data.maxDirectoryEntries ?? defaults.maxDirectoryEntries,
    scripts: parsed.data.scripts ?? DEFAULT_SCRIPTS,
    agentProfiles: await resolveAgentProfiles(parsed.data, file, options),
    ...(parsed.data.agentSessions ? { agentSessionTimeouts: toTimeouts(parsed.data.agentSessions) } : {}),
    file,
  };
}

function toTimeouts(entry: z.infer<typeof agentSessionsEntry>): AgentSessionTimeouts {
  const { approvalTimeoutSeconds: approval, turnTimeoutSeconds: turn } = entry;
  return {
    ...(approval === undefined ? {} : { approvalTimeoutMs: approval * 1000 }),
    ...(turn === undefined ? {} : { turnTimeoutMs: turn * 1000 }),
  };
}

export interface LoadOptions {
  /** Told about what the policy names but this host cannot do (a profile whose command is missing). */
  warn?: (message: string) => void;
  /** The PATH profile commands are looked up on; by default that of the agents' environment. */
  path?: string;
}

const HOST_NAMESPACE_OPTIONS = ["networkMode", "pidMode", "ipcMode", "utsMode", "usernsMode"] as const;

/**
 * `no-new-privileges` is the only security option accepted. A denylist cannot work here:
 * besides `seccomp=unconfined`, a custom seccomp profile, an AppArmor profile name or an
 * SELinux `label=type:spc_t` can each switch confinement off.
 */
const ALLOWED_SECURITY_OPT = /^no-new-privileges([:=](true|false))?$/;

/**
 * Refuses container options that give a container power over the host: privileged mode,
 * host or other-container namespaces, added capabilities, devices, security options other
 * than no-new-privileges, and bind mounts beyond the one workspace path. Every violation is
 * listed in the message and in `details.violations`.
 */
export function checkContainerSecurity(options: ContainerSecurityOptions): void {
  const violations: string[] = [];
  if (options.privileged === true) violations.push("privileged containers are not allowed");
  for (const key of HOST_NAMESPACE_OPTIONS) {
    const value = options[key]?.trim().toLowerCase();
    if (value === "host" || value?.startsWith("container:")) violations.push(`${key} "${options[key]}" is not allowed`);
  }
  if (options.capAdd?.length) violations.push(`capAdd is not allowed (${options.capAdd.join(", ")})`);
  if (options.devices?.length) violations.push(`devices are not allowed (${options.devices.join(", ")})`);
  for (const opt of options.securityOpt ?? []) {
    if (!ALLOWED_SECURITY_OPT.test(opt.trim()))
      violations.push(`securityOpt "${opt}" is not allowed (only no-new-privileges is)`);
  }
  if (options.extraBinds?.length)
    violations.push(`extra bind mounts are not allowed (${options.extraBinds.join(", ")})`);
  if (violations.length > 0) {
    throw new KaiError("PERMISSION_DENIED", `refused by this host's policy: ${violations.join("; ")}`, {
      details: { violations },
    });
  }
}

/**
 * Refuses when the policy turns scripts off, naming the switch: a workspace script (or the
 * OpenSpec CLI, which follows the workspace's symlinks) runs with the agent user's full
 * rights, so this is the owner's way to keep untrusted workspaces from reaching further.
 */
export function requireScriptsAllowed(policy: Policy): void {
  if (policy.scripts === false) {
    throw denied(
      'scripts and the OpenSpec CLI are turned off on this host by its local policy ("scripts": false in kai-agent\'s policy file); ' +
        'the host\'s owner can allow them with "scripts": true and a restart of kai-agent',
      { policy: "scripts" },
    );
  }
}

function denied(message: string, details?: Record<string, unknown>): KaiError {
  return new KaiError("PERMISSION_DENIED", message, details ? { details } : {});
}

function fieldName(segments: readonly PropertyKey[]): string {
  return segments
    .map((segment, i) => (typeof segment === "number" ? `[${segment}]` : `${i > 0 ? "." : ""}${String(segment)}`))
    .join("");
}
