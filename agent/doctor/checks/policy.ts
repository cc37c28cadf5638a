import fs from "node:fs/promises";
import type { DoctorCheck } from "../../../shared/schemas/doctor";
import { defaultPolicyFile, loadPolicy, type Policy } from "../../policy";
import { errnoCode } from "../../runtime/fs/errors";
import { fail, pass, skip } from "../report";

/** A profile the policy names but this host cannot run: loadPolicy leaves it out and says so. */
const PROFILE_WARNING = /agent profile|defaultAgentProfile/;

/**
 * The policy file (readable, valid, every allowed root there) and the agent profiles it
 * offers (each command found on PATH), read exactly as kai-agent reads them at start.
 */
export async function checkPolicy(file: string | undefined): Promise<DoctorCheck[]> {
  const path = file ?? defaultPolicyFile();
  const missing = await fs.stat(path).then(
    () => false,
    (error) => errnoCode(error) === "ENOENT",
  );
  const warnings: string[] = [];
  let policy: Policy;
  try {
    policy = await loadPolicy(path, { warn: (message) => warnings.push(message) });
  } catch (error) {
    const message = (error as Error).message;
    return [
      fail("policy", message, fixFor(message, path)),
      skip("profiles", "not checked: the policy file is not usable (see the policy line)"),
    ];
  }
  const roots = policy.allowedRoots.join(", ");
  const policyCheck = missing
    ? pass("policy", `no policy file at ${path}: the defaults apply (only your home directory, ${roots}, is reachable)`)
    : pass("policy", `${path} is valid; allowed roots: ${roots}`);
  return [policyCheck, checkProfiles(policy, warnings, path)];
}

function fixFor(message: string, path: string): string {
  if (message.includes("allowedRoots"))
    return `create that directory, or remove it from "allowedRoots" in ${path}, then restart kai-agent`;
  if (message.includes("cannot read"))
    return `make ${path} readable by the user kai-agent runs as (chown $USER and chmod 600 ${path})`;
  return `fix ${path} (kai-agent --help lists its fields), then restart kai-agent`;
}

function checkProfiles(policy: Policy, warnings: string[], path: string): DoctorCheck {
  const profiles = policy.agentProfiles ?? [];
  const problems = warnings.filter((message) => PROFILE_WARNING.test(message));
  const found = profiles.map(
    (profile) => `${profile.name} (${profile.executable}${profile.default ? ", default" : ""})`,
  );
  if (problems.length > 0)
    return fail(
      "profiles",
      [...problems, ...(found.length ? [`found: ${found.join(", ")}`] : [])].join("; "),
      `install the missing command, or fix its "command" in "agentProfiles" of ${path} ` +
        "(a bare name is looked up on kai-agent's PATH: under systemd that is the unit's, not your shell's)",
    );
  if (profiles.length === 0)
    return skip(
      "profiles",
      "no coding agents: none configured and none of the built-in ones (claude-agent-acp, codex-acp, gemini) " +
        "is on PATH, so agent sessions are not available on this host",
      `to offer agent sessions, install one of them or name profiles in "agentProfiles" of ${path}`,
    );
  return pass("profiles", `found: ${found.join(", ")}`);
}
