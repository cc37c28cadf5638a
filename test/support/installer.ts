import { spawn } from "node:child_process";
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

export interface InstallerRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * XDG base directories an install may be given; unset ones default to ~/.local/share and
 * ~/.config. KAI_CONFIG, when given, is the config file itself (kai-agent reads it first).
 */
export interface XdgDirs {
  XDG_DATA_HOME?: string;
  XDG_CONFIG_HOME?: string;
  KAI_CONFIG?: string;
}

/** The paths install.sh writes in a home: the layout every kai-agent command shares. */
export function installedLayout(home: string, xdg: XdgDirs = {}) {
  return {
    bundle: path.join(xdg.XDG_DATA_HOME ?? path.join(home, ".local", "share"), "kai", "kai-agent.mjs"),
    launcher: path.join(home, ".local", "bin", "kai-agent"),
    config: xdg.KAI_CONFIG ?? path.join(xdg.XDG_CONFIG_HOME ?? path.join(home, ".config"), "kai", "agent.json"),
  };
}

/** A fresh empty home directory for one install. */
export const tempHome = () => mkdtemp(path.join(os.tmpdir(), "kai-home-"));

const FETCH = { curl: "curl -fsSL", wget: "wget -qO-" };

interface InstallerOptions {
  home: string;
  args?: string[];
  shell?: "sh" | "dash" | "bash";
  /** Directories searched before the test's Node (a stand-in `node`, say). */
  pathPrefix?: string;
  /** The whole PATH instead (a machine without Node, say); it must hold the fetcher and the shell. */
  path?: string;
  /** What pipes the script into the shell, as the user would paste it (default curl). */
  fetcher?: "curl" | "wget";
  xdg?: XdgDirs;
}

export interface RunningInstaller {
  /** stdout and stderr so far, interleaved. */
  output(): string;
  done: Promise<InstallerRun>;
  /** Signals the whole process group (detached): the script and the agent it started. */
  kill(signal?: NodeJS.Signals): void;
}

/**
 * Starts `curl -fsSL SERVER/install.sh | SHELL -s -- ARGS` as a user pastes it: real curl, a
 * real pipe (so the script's stdin is the script), a clean environment with only HOME, PATH
 * and the XDG dirs given (no session bus: `systemctl --user` cannot answer), and PATH holding the test's own
 * Node first unless `pathPrefix` puts something before it. Detached: a new session without a
 * controlling terminal, as under CI or ssh without -t, and one process group to kill.
 */
export function startInstaller(server: string, options: InstallerOptions): RunningInstaller {
  const shell = options.shell ?? "sh";
  const nodeDir = path.dirname(process.execPath);
  const PATH =
    options.path ?? [options.pathPrefix, nodeDir, "/usr/local/bin", "/usr/bin", "/bin"].filter(Boolean).join(":");
  const child = spawn(
    "/bin/sh",
    [
      "-c",
      `${FETCH[options.fetcher ?? "curl"]} "$KAI_INSTALL_URL" | ${shell} -s -- "$@"`,
      "install",
      ...(options.args ?? []),
    ],
    {
      env: { ...options.xdg, HOME: options.home, PATH, KAI_INSTALL_URL: `${server}/install.sh` },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    },
  );
  let stdout = "";
  let stderr = "";
  let both = "";
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
    both += chunk.toString();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
    both += chunk.toString();
  });
  const done = new Promise<InstallerRun>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
  return {
    output: () => both,
    done,
    kill(signal = "SIGTERM") {
      if (child.exitCode !== null || child.signalCode !== null || !child.pid) return;
      process.kill(-child.pid, signal);
    },
  };
}

/** Runs the installer to its end (see startInstaller). */
export function runInstaller(server: string, options: InstallerOptions): Promise<InstallerRun> {
  return startInstaller(server, options).done;
}
