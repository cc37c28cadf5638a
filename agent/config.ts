import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { z } from "zod";

export const USAGE = `kai-agent: connects this machine to Kai so its containers and directories can be driven from anywhere.

Usage:
  kai-agent --server URL --token TOKEN [options]

Options:
  --server URL         Kai's address, e.g. https://kai.example.com   (env KAI_SERVER)
  --token TOKEN        this host's agent token, kai_agent_…           (env KAI_TOKEN)
  --config FILE        JSON file with {"server", "token", "policy", "dockerSocket"}
                       (env KAI_CONFIG; default ~/.config/kai/agent.json)
  --policy FILE        local policy file: {"allowedRoots": [...], "maxDirectoryEntries": n}
                       (env KAI_POLICY; default ~/.config/kai/agent-policy.json;
                       without one, only your home directory is reachable)
  --docker-socket PATH Docker engine socket (env DOCKER_HOST is honoured otherwise)
  --log-level LEVEL    debug, info, warn or error (default info)
  -h, --help           show this help
  -v, --version        print the agent's version

Get a token by enrolling the machine: POST /api/hosts {"name": "my-laptop"}; the answer
contains the exact command to run. The agent only dials out: no port is opened here.`;

const fileSchema = z
  .object({
    server: z.url().optional(),
    token: z.string().optional(),
    policy: z.string().optional(),
    dockerSocket: z.string().optional(),
  })
  .strict();

export interface AgentConfig {
  server: string;
  token: string;
  policyFile?: string;
  dockerSocket?: string;
  logLevel: "debug" | "info" | "warn" | "error";
}

export type ParsedCommand = { kind: "help" } | { kind: "version" } | { kind: "run"; config: AgentConfig };

/** A configuration problem the user can fix; the CLI prints it with the usage hint. */
export class ConfigError extends Error {}

export function defaultConfigFile(): string {
  const base = process.env.XDG_CONFIG_HOME || path.join(os.homedir(), ".config");
  return path.join(base, "kai", "agent.json");
}

async function readConfigFile(file: string, explicit: boolean): Promise<z.infer<typeof fileSchema>> {
  let text: string;
  try {
    text = await fs.readFile(file, "utf8");
  } catch (error) {
    if (!explicit && (error as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw new ConfigError(`cannot read the config file ${file}: ${(error as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ConfigError(`the config file ${file} is not valid JSON`);
  }
  const parsed = fileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(`the config file ${file} is invalid: ${issue?.path.join(".") || "(root)"}: ${issue?.message}`);
  }
  return parsed.data;
}

/** Flags win over environment variables, which win over the config file. */
export async function parseCommand(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<ParsedCommand> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        server: { type: "string" },
        token: { type: "string" },
        config: { type: "string" },
        policy: { type: "string" },
        "docker-socket": { type: "string" },
        "log-level": { type: "string" },
        help: { type: "boolean", short: "h" },
        version: { type: "boolean", short: "v" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  if (values.help) return { kind: "help" };
  if (values.version) return { kind: "version" };

  const configFile = values.config ?? env.KAI_CONFIG;
  const file = await readConfigFile(configFile ?? defaultConfigFile(), Boolean(configFile));
  const server = values.server ?? env.KAI_SERVER ?? file.server;
  const token = values.token ?? env.KAI_TOKEN ?? file.token;
  if (!server) throw new ConfigError("missing --server (or KAI_SERVER, or \"server\" in the config file)");
  if (!token) throw new ConfigError("missing --token (or KAI_TOKEN, or \"token\" in the config file)");
  if (!/^https?:\/\//.test(server)) throw new ConfigError(`--server must be an http(s) URL, got ${server}`);
  if (!token.startsWith("kai_agent_")) throw new ConfigError("--token must be an agent token (kai_agent_…) from POST /api/hosts");
  const logLevel = values["log-level"] ?? "info";
  if (!["debug", "info", "warn", "error"].includes(logLevel)) throw new ConfigError(`--log-level must be debug, info, warn or error`);

  const policyFile = values.policy ?? env.KAI_POLICY ?? file.policy;
  const dockerSocket = values["docker-socket"] ?? file.dockerSocket;
  return {
    kind: "run",
    config: {
      server,
      token,
      logLevel: logLevel as AgentConfig["logLevel"],
      ...(policyFile ? { policyFile } : {}),
      ...(dockerSocket ? { dockerSocket } : {}),
    },
  };
}
