import { existsSync } from "node:fs";
import { stat } from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import { ConfigError, defaultConfigFile, parseCommand } from "../config";
import { EXIT_CONFIG, EXIT_FAILURE, EXIT_FINAL } from "../exit-codes";
import { refusedEngine } from "../runtime/docker/client";
import { launchdManager } from "./launchd";
import { runningBundle } from "./running-bundle";
import type { Outcome, ServiceManager } from "./service-manager";
import { systemdManager } from "./systemd";
import type { ServiceSpec } from "./systemd-unit";

const SERVICE_USAGE = `Usage: kai-agent service install|uninstall|status [--bundle FILE] [--config FILE]

Runs kai-agent as your own service, no root needed: a systemd user unit on Linux
(~/.config/systemd/user/kai-agent.service), a launchd agent on macOS
(~/Library/LaunchAgents/dev.kai.agent.plist). It restarts after a failure and starts at login.

  install     write the unit and start it now; again after moving the bundle or Node
  uninstall   stop it and remove the unit
  status      installed or not, running or not, and where its logs are;
              exits 0 when the service runs, 1 otherwise

Options:
  --bundle FILE   the installed kai-agent bundle to run (default: the one running this command)
  --config FILE   the config file the service reads (default: KAI_CONFIG, or ~/.config/kai/agent.json)
  -h, --help      show this help

The service runs "<this Node> <bundle> --config FILE". kai-agent's exit codes: 1 a failure
(restarted), ${EXIT_CONFIG} the configuration is wrong, ${EXIT_FINAL} the edge ended it for good (token revoked,
protocol too old): not restarted, the log says what to do.`;

/**
 * Settings the service needs to behave like this shell's kai-agent; none of them is a secret.
 * NODE_EXTRA_CA_CERTS: a private CA that worked here must work in the service. PATH: coding-agent
 * commands installed with nvm or in ~/.local/bin are not on the service manager's short default PATH.
 */
const PASSED_ENVIRONMENT = ["XDG_CONFIG_HOME", "KAI_POLICY", "DOCKER_HOST", "NODE_EXTRA_CA_CERTS", "PATH"];

/** This platform's service manager, or undefined where kai-agent knows none. */
function serviceManager(env: NodeJS.ProcessEnv = process.env): ServiceManager | undefined {
  if (process.platform === "linux") return systemdManager(env);
  if (process.platform === "darwin") return launchdManager(env);
  return undefined;
}

/** Restarts the installed service after an upgrade; `undefined` when kai-agent runs without one. */
export function restartService(env: NodeJS.ProcessEnv = process.env): Promise<Outcome | undefined> {
  return serviceManager(env)?.restart() ?? Promise.resolve(undefined);
}

function print(outcome: Outcome): number {
  (outcome.ok ? process.stdout : process.stderr).write(outcome.lines.map((line) => `${line}\n`).join(""));
  return outcome.ok ? 0 : EXIT_FAILURE;
}

function fail(message: string, code: number = EXIT_FAILURE): number {
  process.stderr.write(`kai-agent service: ${message}\n`);
  return code;
}

/** `kai-agent service …`: see SERVICE_USAGE. */
export async function serviceCommand(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: { bundle: { type: "string" }, config: { type: "string" }, help: { type: "boolean", short: "h" } },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    return fail(`${(error as Error).message}\n${SERVICE_USAGE}`, EXIT_CONFIG);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${SERVICE_USAGE}\n`);
    return 0;
  }
  const [action, ...extra] = positionals;
  if (!action || extra.length > 0 || !["install", "uninstall", "status"].includes(action))
    return fail(`say install, uninstall or status\n${SERVICE_USAGE}`, EXIT_CONFIG);
  const manager = serviceManager(env);
  if (!manager)
    return fail(
      `no service manager kai-agent knows on ${process.platform} (systemd on Linux, launchd on macOS): ` +
        "run kai-agent under your own supervisor, restarting it when it exits 1",
    );
  if (action === "uninstall") return print(await manager.uninstall());
  if (action === "status") {
    const status = await manager.status();
    const lines = [
      `kai-agent service (${manager.name})`,
      `  file:      ${status.file} (${status.installed ? "installed" : "not installed"})`,
      ...(status.state ? [`  state:     ${status.state}`] : []),
      ...(status.startsAt ? [`  starts at: ${status.startsAt}`] : []),
      `  logs:      ${status.logs}`,
      ...(status.problem ? [status.problem] : []),
    ];
    process.stdout.write(`${lines.join("\n")}\n`);
    return status.running ? 0 : EXIT_FAILURE;
  }
  let spec;
  try {
    spec = await serviceSpec(values, env);
  } catch (error) {
    if (error instanceof ConfigError) return fail(error.message, EXIT_CONFIG);
    throw error;
  }
  return print(await manager.install(spec));
}

/** What the service runs, checked now rather than found broken in the journal later. */
async function serviceSpec(values: { bundle?: string; config?: string }, env: NodeJS.ProcessEnv): Promise<ServiceSpec> {
  const bundle = values.bundle ? path.resolve(values.bundle) : runningBundle();
  if (!bundle)
    throw new ConfigError(
      "this kai-agent runs from a source checkout, and a service must run an installed bundle: install one " +
        "with the one-line installer (SERVER/install.sh), or build one (npm run build:agent) " +
        "and pass --bundle dist/kai-agent.mjs",
    );
  const bundleStat = await stat(bundle).catch(() => undefined);
  if (!bundleStat?.isFile()) throw new ConfigError(`--bundle ${bundle} is not a file`);
  const config = path.resolve(values.config ?? (env.KAI_CONFIG || defaultConfigFile(env)));
  if (!existsSync(config))
    throw new ConfigError(
      `the service would not start: there is no config file ${config}; log in first with ` +
        "kai-agent login --server URL (or name another config with --config FILE), " +
        "then run kai-agent service install again",
    );
  // As the service will read it: only its config file, no KAI_SERVER/KAI_CONFIG of this shell.
  const { KAI_SERVER: _server, KAI_CONFIG: _config, KAI_TOKEN: _token, ...serviceEnv } = env;
  try {
    const parsed = await parseCommand(["--config", config], serviceEnv);
    // The agent would refuse an ssh:// engine at every start (agent/runtime/docker/client.ts).
    const docker =
      parsed.kind === "run" && parsed.config.dockerSocket ? { socketPath: parsed.config.dockerSocket } : {};
    const refused = parsed.kind === "run" ? refusedEngine(docker, serviceEnv) : undefined;
    if (refused) throw new ConfigError(`${refused.message}: ${refused.fix}`);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    throw new ConfigError(`the service would not start: ${error.message}; then run kai-agent service install again`);
  }
  // The service starts elsewhere than this shell: a relative CA file would not be found there.
  const serviceValue = (name: string, value: string) => (name === "NODE_EXTRA_CA_CERTS" ? path.resolve(value) : value);
  const environment = Object.fromEntries(
    PASSED_ENVIRONMENT.flatMap((name) => {
      const value = env[name];
      return value ? [[name, serviceValue(name, value)]] : [];
    }),
  ) as Record<string, string>;
  return { node: process.execPath, bundle, config, environment };
}
