import fs from "node:fs/promises";
import { ConfigError, defaultConfigFile, parseCommand } from "../config";
import type { DoctorSettings } from "./run-doctor";

/** The agent's own options the doctor takes, to check the configuration the agent would run with. */
export interface DoctorFlags {
  server?: string | undefined;
  config?: string | undefined;
  policy?: string | undefined;
  "docker-socket"?: string | undefined;
  "token-file"?: string | undefined;
}

const FLAGS = ["server", "config", "policy", "docker-socket", "token-file"] as const;
const unsetIfEmpty = (value: string | undefined) => (value === "" ? undefined : value);

/**
 * The settings kai-agent would run with, read by the agent's own parser so the verdict is
 * the same as at start. When that parser refuses, its message becomes the configuration's
 * failing check and the rest is read leniently, as far as it can be, so the other checks
 * still say what they can (a token file with loose permissions still gets its token checked).
 */
export async function readSettings(flags: DoctorFlags, env: NodeJS.ProcessEnv = process.env): Promise<DoctorSettings> {
  const argv = FLAGS.flatMap((name) => (flags[name] === undefined ? [] : [`--${name}`, flags[name] as string]));
  try {
    const command = await parseCommand(argv, env);
    if (command.kind === "run") {
      const { server, token, policyFile, dockerSocket } = command.config;
      return { server, token, policyFile, dockerSocket, relayed: false };
    }
  } catch (error) {
    const problem = error instanceof ConfigError ? error.message : `unexpected: ${(error as Error).message}`;
    return { ...(await readLeniently(flags, env)), configProblem: problem, relayed: false };
  }
  return { ...(await readLeniently(flags, env)), relayed: false };
}

async function readLeniently(
  flags: DoctorFlags,
  env: NodeJS.ProcessEnv,
): Promise<Pick<DoctorSettings, "server" | "token" | "policyFile" | "dockerSocket">> {
  const configFile = flags.config ?? unsetIfEmpty(env.KAI_CONFIG) ?? defaultConfigFile(env);
  let file: Record<string, unknown> = {};
  try {
    const json: unknown = JSON.parse(await fs.readFile(configFile, "utf8"));
    if (json && typeof json === "object") file = json as Record<string, unknown>;
  } catch {
    // Missing or broken: the configuration line already says so.
  }
  const text = (value: unknown) => (typeof value === "string" && value ? value : undefined);
  let token = text(file.token);
  if (flags["token-file"]) token = text((await fs.readFile(flags["token-file"], "utf8").catch(() => "")).trim());
  return {
    server: flags.server ?? unsetIfEmpty(env.KAI_SERVER) ?? text(file.server),
    token,
    policyFile: flags.policy ?? unsetIfEmpty(env.KAI_POLICY) ?? text(file.policy),
    dockerSocket: flags["docker-socket"] ?? text(file.dockerSocket),
  };
}
