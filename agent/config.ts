import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { z } from "zod";

export const USAGE = `kai-agent: connects this machine to Kai so its containers and directories can be driven from anywhere.

Usage:
  kai-agent login --server URL [--name NAME] [--config FILE]
                                               enroll this machine: prints a code to approve in the
                                               dashboard, then saves this host's agent token
  kai-agent login --server URL --with-token [--config FILE]
                                               save a token from enrolling (POST /api/hosts), read
                                               from stdin (at a terminal: asked for, not echoed)
  kai-agent [options]                          connect, with the server and token saved by login
  kai-agent doctor [--json] [options]          check this machine's setup: one line per check, with its fix
  kai-agent service install|uninstall|status   run it as your own service (systemd user unit, launchd)
  kai-agent upgrade [--check]                  replace it with the release the server serves

Enroll a machine, on that machine:
  kai-agent login --server https://kai.example.com && kai-agent
login prints a short code and a URL; open it signed in (anywhere: a phone will do), check
the code and approve. The agent then gets its token and writes {"server", "token"} to the
config file, readable by you only (mode 0600). Codes expire after 10 minutes and work once;
Ctrl-C leaves nothing saved. --name suggests the host's name (default: the approver's choice,
prefilled with this machine's hostname).

Options:
  --server URL         Kai's address, e.g. https://kai.example.com   (env KAI_SERVER)
  --token-file FILE    read this host's agent token (kai_agent_…) from FILE, for service
                       managers (e.g. systemd's LoadCredential=); FILE must be chmod 600
  --config FILE        JSON file with {"server", "token", "policy", "dockerSocket"}
                       (env KAI_CONFIG; default ~/.config/kai/agent.json); chmod 600 when it holds a token
  --policy FILE        local policy file: {"allowedRoots": [...], "maxDirectoryEntries": n, "scripts": true}
                       (env KAI_POLICY; default ~/.config/kai/agent-policy.json;
                       without one, only your home directory is reachable). "scripts": false
                       turns workspace scripts off: they run with this user's full rights,
                       beyond allowedRoots. "agentProfiles": {"name": {"command", "args", "env"}}
                       and "defaultAgentProfile" name the coding agents agent sessions may run
                       (default: claude-agent-acp, codex-acp, gemini --acp, those on PATH)
  --docker-socket PATH Docker engine socket (env DOCKER_HOST is honoured otherwise)
  --log-level LEVEL    debug, info, warn or error (default info)
  --stats-interval S   seconds between the host stats snapshots sent to live dashboards
                       (default 5; 0 sends none)
  -h, --help           show this help
  -v, --version        print the agent's version

The token is never taken from the command line or the environment: both are readable by
every process the agent starts (ps, /proc/<pid>/cmdline, /proc/<pid>/environ). The agent
refuses to start when the file holding its token is readable by group or others.
The agent only dials out: no port is opened here.

Exit codes: 0 stopped (SIGTERM, SIGINT); 1 a failure, worth a restart; 2 the command line or
configuration is wrong; 3 the edge ended this agent for good (its token was revoked, or it no
longer speaks this agent's protocol: run kai-agent upgrade). Restarting after 2 or 3 cannot help.`;

const fileSchema = z
  .object({
    server: z.url().optional(),
    token: z.string().optional(),
    policy: z.string().optional(),
    dockerSocket: z.string().optional(),
  })
  .strict();

interface AgentConfig {
  server: string;
  token: string;
  policyFile?: string;
  dockerSocket?: string;
  logLevel: "debug" | "info" | "warn" | "error";
  /** Between two host stats snapshots for live dashboards; 0: none. */
  statsIntervalMs: number;
}

export type ParsedCommand =
  | { kind: "help" }
  | { kind: "version" }
  | { kind: "login"; server: string; configFile: string; name?: string; withToken: boolean }
  | { kind: "run"; config: AgentConfig };

/** A configuration problem the user can fix; the CLI prints it with the usage hint. */
export class ConfigError extends Error {}

const TOKEN_PREFIX = "kai_agent_";

/** The replacement for the token flag and variable that were dropped; said in every error about them. */
const HOW_TO_GIVE_THE_TOKEN =
  "run `kai-agent login --server URL` (approve this machine in the dashboard; or add --with-token to paste a " +
  "token from enrolling) or pass --token-file FILE (a file only you can read, chmod 600)";

export function defaultConfigFile(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME || path.join(os.homedir(), ".config");
  return path.join(base, "kai", "agent.json");
}

export type ConfigFile = z.infer<typeof fileSchema>;

/** Parses a config file's text; `file` only names it in errors. */
export function parseConfigText(file: string, text: string): ConfigFile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ConfigError(`the config file ${file} is not valid JSON`);
  }
  const parsed = fileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(
      `the config file ${file} is invalid: ${issue?.path.join(".") || "(root)"}: ${issue?.message}`,
    );
  }
  return parsed.data;
}

/**
 * Reads a file that may hold the token, with its permission bits from the same open file
 * (fstat, so a swap between the check and the read cannot slip a different file in).
 * `undefined` when it does not exist and `missingOk`.
 */
async function readSecretFile(
  file: string,
  what: string,
  missingOk: boolean,
): Promise<{ text: string; mode: number } | undefined> {
  let handle;
  try {
    handle = await fs.open(file, "r");
  } catch (error) {
    if (missingOk && (error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new ConfigError(`cannot read the ${what} ${file}: ${(error as Error).message}`);
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new ConfigError(`the ${what} ${file} is not a regular file`);
    return { text: await handle.readFile("utf8"), mode: stat.mode };
  } finally {
    await handle.close();
  }
}

/**
 * Like ssh with a private key: a token others can read is refused, with the command that
 * fixes it. Any group or other bit counts (0640 too): a shared group is others.
 */
function requirePrivate(file: string, mode: number): void {
  if ((mode & 0o077) === 0) return;
  const octal = (mode & 0o777).toString(8).padStart(4, "0");
  throw new ConfigError(
    `${file} holds this host's agent token but its permissions (${octal}) let other users read it; ` +
      `run: chmod 600 ${shellQuote(file)}`,
  );
}

/** Checks what a token looks like, so a pasted API token or a stray newline fails here and not at the edge. */
export function checkToken(token: string, source: string): string {
  if (!token.startsWith(TOKEN_PREFIX))
    throw new ConfigError(
      `${source} does not hold an agent token (${TOKEN_PREFIX}…); enrolling a machine (POST /api/hosts) answers one`,
    );
  if (!/^[A-Za-z0-9_-]+$/.test(token) || token.length > 512)
    throw new ConfigError(
      `${source} holds something that is not an agent token (only letters, digits, _ and - after ${TOKEN_PREFIX})`,
    );
  return token;
}

function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replaceAll("'", "'\\''")}'`;
}

const emptyAsUnset = (value: string | undefined) => (value === "" ? undefined : value);

/** Flags win over environment variables, which win over the config file. */
export async function parseCommand(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<ParsedCommand> {
  if (argv[0] === "login") return parseLogin(argv.slice(1), env);
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        server: { type: "string" },
        // Still declared so that using it is an error that names the replacement, not "unknown option".
        token: { type: "string" },
        "token-file": { type: "string" },
        config: { type: "string" },
        policy: { type: "string" },
        "docker-socket": { type: "string" },
        "log-level": { type: "string" },
        "stats-interval": { type: "string" },
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
  if (values.token !== undefined) {
    throw new ConfigError(
      `--token is no longer accepted: a command line is visible to every process on this machine (ps) and stays in shell history; ${HOW_TO_GIVE_THE_TOKEN}`,
    );
  }
  if (emptyAsUnset(env.KAI_TOKEN) !== undefined) {
    throw new ConfigError(
      `KAI_TOKEN is no longer read: the agent's environment is readable by every script it runs (/proc/<pid>/environ); unset KAI_TOKEN and ${HOW_TO_GIVE_THE_TOKEN}`,
    );
  }

  const explicitConfig = values.config ?? emptyAsUnset(env.KAI_CONFIG);
  const configFile = explicitConfig ?? defaultConfigFile(env);
  const configRead = await readSecretFile(configFile, "config file", !explicitConfig);
  const file = configRead ? parseConfigText(configFile, configRead.text) : {};
  const server = values.server ?? emptyAsUnset(env.KAI_SERVER) ?? file.server;

  let token: string | undefined;
  const tokenFile = values["token-file"];
  if (tokenFile !== undefined) {
    const read = await readSecretFile(tokenFile, "token file", false);
    if (!read) throw new ConfigError(`cannot read the token file ${tokenFile}`);
    requirePrivate(tokenFile, read.mode);
    token = checkToken(read.text.trim(), `the token file ${tokenFile}`);
  } else if (file.token !== undefined && configRead) {
    requirePrivate(configFile, configRead.mode);
    token = checkToken(file.token, `"token" in the config file ${configFile}`);
  }

  if (!server)
    throw new ConfigError(
      "missing the server: run `kai-agent login --server URL` once, or pass --server URL (or set KAI_SERVER)",
    );
  if (!token) throw new ConfigError(`missing this host's agent token: ${HOW_TO_GIVE_THE_TOKEN}`);
  checkServer(server);
  const logLevel = values["log-level"] ?? "info";
  if (!["debug", "info", "warn", "error"].includes(logLevel))
    throw new ConfigError(`--log-level must be debug, info, warn or error`);

  const statsSeconds = Number(values["stats-interval"] ?? "5");
  if (!Number.isInteger(statsSeconds) || statsSeconds < 0 || statsSeconds > 3600)
    throw new ConfigError("--stats-interval must be a whole number of seconds from 0 to 3600");

  const policyFile = values.policy ?? emptyAsUnset(env.KAI_POLICY) ?? file.policy;
  const dockerSocket = values["docker-socket"] ?? file.dockerSocket;
  return {
    kind: "run",
    config: {
      server,
      token,
      logLevel: logLevel as AgentConfig["logLevel"],
      statsIntervalMs: statsSeconds * 1000,
      ...(policyFile ? { policyFile } : {}),
      ...(dockerSocket ? { dockerSocket } : {}),
    },
  };
}

function checkServer(server: string): void {
  let valid = /^https?:\/\/[^/]/.test(server);
  try {
    new URL(server);
  } catch {
    valid = false;
  }
  if (!valid) throw new ConfigError(`--server must be an http(s) URL such as https://kai.example.com, got ${server}`);
}

async function parseLogin(argv: string[], env: NodeJS.ProcessEnv): Promise<ParsedCommand> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        server: { type: "string" },
        config: { type: "string" },
        name: { type: "string" },
        "with-token": { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new ConfigError(
      `login: ${(error as Error).message} (a token is never an argument: login --with-token reads it from stdin)`,
    );
  }
  if (values.help) return { kind: "help" };
  const configFile = values.config ?? emptyAsUnset(env.KAI_CONFIG) ?? defaultConfigFile(env);
  const server = values.server ?? emptyAsUnset(env.KAI_SERVER);
  if (!server)
    throw new ConfigError(
      "login needs --server URL, Kai's address, e.g. kai-agent login --server https://kai.example.com",
    );
  checkServer(server);
  const withToken = values["with-token"] ?? false;
  if (withToken && values.name !== undefined)
    throw new ConfigError("login: --name is for the device login; a token from enrolling already names its host");
  return {
    kind: "login",
    server: server.replace(/\/+$/, ""),
    configFile,
    withToken,
    ...(values.name !== undefined ? { name: values.name } : {}),
  };
}
