import { execFile } from "node:child_process";

export interface RunResult {
  /** The exit code; 127 when the program is not installed. */
  code: number;
  stdout: string;
  stderr: string;
}

/** Long enough for `systemctl restart` of an agent stopping its coding agents (TimeoutStopSec=30). */
const TIMEOUT_MS = 60_000;

/** Runs a service manager's command line and collects its answer; never throws. */
export function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(command, args, { env, timeout: TIMEOUT_MS }, (error, stdout, stderr) => {
      if (!error) return resolve({ code: 0, stdout, stderr });
      const failure = error as NodeJS.ErrnoException & { code?: number | string };
      if (failure.code === "ENOENT") return resolve({ code: 127, stdout: "", stderr: `${command} is not installed` });
      const code = typeof failure.code === "number" ? failure.code : 1;
      resolve({ code, stdout, stderr: stderr.trim() || failure.message });
    });
  });
}
