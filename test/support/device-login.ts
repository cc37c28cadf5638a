import { type ChildProcess, spawn } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { ROOT } from "./edge-server";
import { until } from "./until";

const CLI = path.join(ROOT, "agent/cli.ts");

/**
 * A real `kai-agent` process run from source (tsx) with its own config home, its output
 * (stdout and stderr) kept: `kai-agent login` for the device flow, or the agent itself
 * started bare afterwards, reading what login saved.
 */
/** A config home for one machine under `dir`, with a policy confining its agent to `dir`. */
export async function machineHome(dir: string, name: string): Promise<string> {
  const home = path.join(dir, name);
  await mkdir(path.join(home, "kai"), { recursive: true });
  await writeFile(path.join(home, "kai", "agent-policy.json"), JSON.stringify({ allowedRoots: [dir] }));
  return home;
}

export class KaiAgentRun {
  output = "";
  readonly exit: Promise<number | null>;
  readonly #child: ChildProcess;

  constructor(args: string[], configHome: string) {
    const { KAI_TOKEN: _token, KAI_SERVER: _server, KAI_CONFIG: _config, ...env } = process.env;
    this.#child = spawn(process.execPath, ["--import", "tsx", CLI, ...args], {
      cwd: ROOT,
      env: { ...env, XDG_CONFIG_HOME: configHome },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const keep = (chunk: Buffer) => {
      this.output += chunk.toString();
      if (process.env.KAI_E2E_VERBOSE) process.stderr.write(`[kai-agent] ${chunk}`);
    };
    this.#child.stdout?.on("data", keep);
    this.#child.stderr?.on("data", keep);
    this.exit = new Promise((resolve) => this.#child.once("exit", (code) => resolve(code)));
  }

  /** `kai-agent login --server URL …` (the device flow) with `configHome` as XDG_CONFIG_HOME. */
  static login(server: string, configHome: string, extra: string[] = []): KaiAgentRun {
    return new KaiAgentRun(["login", "--server", server, ...extra], configHome);
  }

  /** The code and page login printed, once it has. */
  async printed(): Promise<{ userCode: string; url: string }> {
    await until(() => /\/device\?code=/.test(this.output) || this.exited, 60_000, "login printing its code");
    const url = /(https?:\/\/\S+\/device\?code=\S+)/.exec(this.output)?.[1];
    const userCode = /shows the code\s+([A-Z]{4}-[A-Z]{4})/.exec(this.output)?.[1];
    if (!url || !userCode) throw new Error(`login printed no code; output:\n${this.output}`);
    return { userCode, url };
  }

  /** Resolves once the output matches `pattern`; fails early if the process ends first. */
  async waitFor(pattern: RegExp, ms = 60_000): Promise<void> {
    await until(() => pattern.test(this.output) || this.exited, ms, `output matching ${pattern}`);
    if (!pattern.test(this.output)) throw new Error(`ended without ${pattern}; output:\n${this.output}`);
  }

  get exited(): boolean {
    return this.#child.exitCode !== null || this.#child.signalCode !== null;
  }

  signal(signal: NodeJS.Signals): void {
    this.#child.kill(signal);
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    this.#child.kill("SIGKILL");
    await this.exit;
  }
}
