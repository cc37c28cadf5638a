import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { until } from "./until";

const exec = promisify(execFile);
const SYSTEMD = "/usr/lib/systemd/systemd";

export interface UserManager {
  /** HOME and XDG_RUNTIME_DIR that reach this manager: give them to kai-agent and to systemctl. */
  env: NodeJS.ProcessEnv;
  systemctl(...args: string[]): Promise<string>;
  /** `systemctl --user show kai-agent.service` as a record. */
  show(unit: string): Promise<Record<string, string>>;
  stop(): Promise<void>;
}

/**
 * A real systemd user manager (`systemd --user`) for one test, with `home` as its user's home:
 * test machines run no login session, so none is reachable. It refuses to start on a machine
 * not booted with systemd (it looks for /run/systemd/system), so it runs in a private mount
 * namespace (`unshare -m`, needs root) where an empty tmpfs holds that marker; the host's
 * /run is untouched. Its control socket is in a temporary XDG_RUNTIME_DIR.
 */
export async function startUserManager(home: string): Promise<UserManager> {
  if (process.getuid?.() !== 0 || !existsSync(SYSTEMD))
    throw new Error(
      `a private systemd user manager needs root and ${SYSTEMD} (apt-get install -y systemd); ` +
        "bash scripts/ensure-systemd-analyze.sh installs it",
    );
  const runtime = await mkdtemp(path.join(os.tmpdir(), "kai-user-manager-"));
  await chmod(runtime, 0o700);
  // The manager's own environment is its units': no config home or bus of the shell running the tests.
  const { XDG_CONFIG_HOME: _config, DBUS_SESSION_BUS_ADDRESS: _bus, ...inherited } = process.env;
  const env: NodeJS.ProcessEnv = { ...inherited, HOME: home, XDG_RUNTIME_DIR: runtime };
  const script = [
    "[ -d /run/systemd ] || mkdir /run/systemd",
    "mount -t tmpfs tmpfs /run/systemd && mkdir /run/systemd/system",
    `exec ${SYSTEMD} --user`,
  ].join("; ");
  const child: ChildProcess = spawn("unshare", ["--mount", "--propagation", "private", "sh", "-c", script], {
    env,
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const systemctl = async (...args: string[]) => (await exec("systemctl", ["--user", ...args], { env })).stdout;
  await until(
    async () => {
      if (child.exitCode !== null) throw new Error(`systemd --user exited (${child.exitCode}): ${stderr}`);
      return systemctl("show-environment").then(
        () => true,
        () => false,
      );
    },
    20_000,
    "systemd --user answering",
  );
  return {
    env,
    systemctl,
    async show(unit) {
      const text = await systemctl("show", unit);
      return Object.fromEntries(
        text.split("\n").map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
      );
    },
    async stop() {
      // SIGTERM: the manager stops its units (kai-agent) and exits.
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}
