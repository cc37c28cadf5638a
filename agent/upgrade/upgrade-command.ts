import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import { parseArgs } from "node:util";
import { AGENT_VERSION, compareVersions } from "../../shared/version";
import { ConfigError, defaultConfigFile, parseConfigText } from "../config";
import { EXIT_CONFIG, EXIT_FAILURE } from "../exit-codes";
import { isLoopback } from "../loopback";
import { nodeSatisfies } from "../node-version";
import { replaceFile } from "../replace-file";
import { runningBundle } from "../service/running-bundle";
import { restartService } from "../service/service-command";
import { downloadBundle } from "./download";
import { fetchManifest, UpgradeError } from "./manifest";

const UPGRADE_USAGE = `Usage: kai-agent upgrade [--server URL] [--config FILE] [--check] [--allow-downgrade]

Replaces this kai-agent with the release your Kai server serves (SERVER/agent/kai-agent.json):
downloads it, checks its size and sha256, checks that it runs, and swaps it in place in one
rename, so the old one stays whole if anything fails. An installed service is restarted
through its service manager; otherwise restart kai-agent yourself.

Options:
  --server URL       the Kai server (default: KAI_SERVER, or the one kai-agent login saved)
  --config FILE      the config file holding the server (default: KAI_CONFIG, or ~/.config/kai/agent.json)
  --check            only say whether a newer release is served
  --allow-downgrade  install the served release even when it is older than this kai-agent
  -h, --help         show this help`;

const say = (line: string) => process.stdout.write(`${line}\n`);

/** The server as the agent resolves it: the flag, KAI_SERVER, then the config file. */
async function resolveServer(values: { server?: string; config?: string }, env: NodeJS.ProcessEnv) {
  if (values.server) return values.server;
  if (env.KAI_SERVER) return env.KAI_SERVER;
  const file = values.config ?? (env.KAI_CONFIG || defaultConfigFile(env));
  const text = await fs.readFile(file, "utf8").catch(() => undefined);
  return text === undefined ? undefined : parseConfigText(file, text).server;
}

/** Runs the new bundle before it replaces the old one: it must start on this Node and say the manifest's version. */
function checkRuns(file: string, version: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [file, "--version"], { timeout: 30_000 }, (error, stdout, stderr) => {
      if (!error && stdout.trim() === version) return resolve();
      const said = error ? stderr.trim().split("\n")[0] || error.message : `version ${stdout.trim()}`;
      reject(new UpgradeError(`the downloaded kai-agent does not run here as ${version} (${said})`));
    });
  });
}

/** `kai-agent upgrade`: see UPGRADE_USAGE. */
export async function upgradeCommand(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        server: { type: "string" },
        config: { type: "string" },
        check: { type: "boolean" },
        "allow-downgrade": { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    process.stderr.write(`kai-agent upgrade: ${(error as Error).message}\n${UPGRADE_USAGE}\n`);
    return EXIT_CONFIG;
  }
  if (values.help) {
    say(UPGRADE_USAGE);
    return 0;
  }
  try {
    return await upgrade(values, env);
  } catch (error) {
    if (!(error instanceof UpgradeError || error instanceof ConfigError)) throw error;
    process.stderr.write(`kai-agent upgrade: ${(error as Error).message}\nNothing was changed.\n`);
    return EXIT_FAILURE;
  }
}

interface UpgradeValues {
  server?: string;
  config?: string;
  check?: boolean;
  "allow-downgrade"?: boolean;
}

async function upgrade(values: UpgradeValues, env: NodeJS.ProcessEnv) {
  const bundle = runningBundle();
  if (!bundle && !values.check)
    throw new UpgradeError(
      "this kai-agent runs from a source checkout, not an installed bundle: update it with git pull (and npm ci)",
    );
  const server = await resolveServer(values, env);
  if (!server)
    throw new UpgradeError("no server to upgrade from: pass --server URL, or run kai-agent login --server URL first");

  const { url, manifest } = await fetchManifest(server);
  // The checksum comes from the same server: it catches a broken download, not a forged one.
  if (url.protocol === "http:" && !isLoopback(url.hostname))
    say(`warning: ${url.origin} is plain http: anyone on the way could swap the download; use the https address`);
  say(`kai-agent ${AGENT_VERSION} is running; ${url.origin} serves ${manifest.version}`);
  const order = compareVersions(manifest.version, AGENT_VERSION);
  if (order === 0 || manifest.version === AGENT_VERSION) {
    say(`kai-agent ${AGENT_VERSION} is already up to date`);
    return 0;
  }
  // Older, or versions that cannot be ordered: never swapped in silently.
  const downgrade = order !== 1;
  if (downgrade && !values["allow-downgrade"]) {
    say(
      order === -1
        ? `${manifest.version} is older than this kai-agent ${AGENT_VERSION}: nothing to do`
        : `cannot tell whether ${manifest.version} is newer than ${AGENT_VERSION}: nothing was changed`,
    );
    if (bundle) say(`to install ${manifest.version} anyway: kai-agent upgrade --allow-downgrade`);
    return 0;
  }
  if (values.check || !bundle) {
    say(
      bundle
        ? `run kai-agent upgrade${downgrade ? " --allow-downgrade" : ""} to install ${manifest.version}`
        : "this is a source checkout: git pull to update it",
    );
    return 0;
  }
  if (!nodeSatisfies(process.versions.node, manifest.node))
    throw new UpgradeError(
      `kai-agent ${manifest.version} needs Node ${manifest.node}, ` +
        `and this is Node ${process.versions.node}: upgrade Node first`,
    );

  const bundleUrl = new URL(manifest.file, url);
  say(`downloading ${bundleUrl} (${manifest.size} bytes)`);
  const bytes = await downloadBundle(bundleUrl, manifest);
  say(`verified size and sha256 ${manifest.sha256}`);
  // The real file: a symlinked bundle keeps its link, and the rename stays in one directory.
  const target = await fs.realpath(bundle);
  try {
    await replaceFile(target, bytes, { mode: 0o755, check: (temporary) => checkRuns(temporary, manifest.version) });
  } catch (error) {
    if (error instanceof UpgradeError) throw error;
    throw new UpgradeError(`cannot replace ${target}: ${(error as Error).message}`);
  }
  say(`installed kai-agent ${manifest.version} at ${target} (was ${AGENT_VERSION})`);

  const restarted = await restartService(env);
  if (!restarted) {
    say(`restart kai-agent to run ${manifest.version}`);
    return 0;
  }
  for (const line of restarted.lines) say(line);
  return restarted.ok ? 0 : EXIT_FAILURE;
}
