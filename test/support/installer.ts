import { spawn } from "node:child_process";
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

export interface InstallerRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The paths install.sh writes in a home (XDG_* unset): the layout every kai-agent command shares. */
export function installedLayout(home: string) {
  return {
    bundle: path.join(home, ".local", "share", "kai", "kai-agent.mjs"),
    launcher: path.join(home, ".local", "bin", "kai-agent"),
    config: path.join(home, ".config", "kai", "agent.json"),
  };
}

/** A fresh empty home directory for one install. */
export const tempHome = () => mkdtemp(path.join(os.tmpdir(), "kai-home-"));

/**
 * Runs `curl -fsSL SERVER/install.sh | SHELL -s -- ARGS` as a user pastes it: real curl, a real
 * pipe (so the script's stdin is the script), a clean environment with only HOME and PATH (no
 * XDG_*), and PATH holding the test's own Node first unless `pathPrefix` puts something before
 * it. Detached: a new session without a controlling terminal, as under CI or ssh without -t.
 */
export function runInstaller(
  server: string,
  options: { home: string; args?: string[]; shell?: "sh" | "dash" | "bash"; pathPrefix?: string },
): Promise<InstallerRun> {
  const shell = options.shell ?? "sh";
  const nodeDir = path.dirname(process.execPath);
  const PATH = [options.pathPrefix, nodeDir, "/usr/local/bin", "/usr/bin", "/bin"].filter(Boolean).join(":");
  const child = spawn(
    "/bin/sh",
    ["-c", `curl -fsSL "$KAI_INSTALL_URL" | ${shell} -s -- "$@"`, "install", ...(options.args ?? [])],
    {
      env: { HOME: options.home, PATH, KAI_INSTALL_URL: `${server}/install.sh` },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    },
  );
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}
