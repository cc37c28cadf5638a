import { execFile } from "node:child_process";

export interface AgentRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a kai-agent command (`node <entry…> args`) to its end, as a user at a shell would. */
export function runAgent(entry: string[], args: string[], env: NodeJS.ProcessEnv): Promise<AgentRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, [...entry, ...args], { env, timeout: 90_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}
