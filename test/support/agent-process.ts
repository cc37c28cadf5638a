import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { ROOT } from "./edge-server";

/**
 * A real `kai-agent` process for end-to-end tests, with its log captured so tests can
 * wait for lines like "connected" and find request ids in it. Started the way a service
 * manager would: the token in a 0600 file named by --token-file, never on the command line
 * or in the environment.
 */
export class AgentProcess {
  readonly lines: string[] = [];
  #child: ChildProcess | undefined;
  #waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  exit: Promise<number | null> = Promise.resolve(null);

  constructor(
    readonly server: string,
    readonly token: string,
    readonly allowedRoots: string[],
    readonly extraArgs: string[] = [],
    /** Run this single-file bundle with plain Node instead of the TypeScript sources. */
    readonly bundle?: string,
    /** More of the policy file than the allowed roots (agent profiles, say). */
    readonly policy: Record<string, unknown> = {},
  ) {}

  async start(): Promise<void> {
    const dir = await mkdtemp(path.join(os.tmpdir(), "kai-agent-"));
    const policy = path.join(dir, "policy.json");
    await writeFile(policy, JSON.stringify({ ...this.policy, allowedRoots: this.allowedRoots }));
    const tokenFile = path.join(dir, "token");
    await writeFile(tokenFile, `${this.token}\n`, { mode: 0o600 });
    const entry = this.bundle ? [this.bundle] : ["--import", "tsx", path.join(ROOT, "agent/cli.ts")];
    const { KAI_TOKEN: _ignored, ...env } = process.env;
    const child = spawn(
      process.execPath,
      [...entry, "--server", this.server, "--token-file", tokenFile, "--policy", policy, ...this.extraArgs],
      {
        cwd: ROOT,
        env: { ...env, KAI_CONFIG: "", XDG_CONFIG_HOME: dir },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    this.#child = child;
    let buffered = "";
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString();
      const parts = buffered.split("\n");
      buffered = parts.pop() ?? "";
      for (const line of parts) {
        this.lines.push(line);
        if (process.env.KAI_E2E_VERBOSE) process.stderr.write(`[agent] ${line}\n`);
        this.#waiters = this.#waiters.filter((waiter) => {
          if (!waiter.pattern.test(line)) return true;
          waiter.resolve(line);
          return false;
        });
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    this.exit = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
  }

  /** Resolves with the first log line (already seen or future) matching `pattern`. */
  waitFor(pattern: RegExp, timeoutMs = 20_000, since = 0): Promise<string> {
    const seen = this.lines.slice(since).find((line) => pattern.test(line));
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`agent never logged ${pattern}; last lines:\n${this.lines.slice(-15).join("\n")}`)),
        timeoutMs,
      );
      this.#waiters.push({
        pattern,
        resolve: (line) => {
          clearTimeout(timer);
          resolve(line);
        },
      });
    });
  }

  /** Starts and waits until the edge has welcomed it. */
  async connected(): Promise<void> {
    const since = this.lines.length;
    if (!this.#child) await this.start();
    await this.waitFor(/ connected /, 30_000, since);
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  signal(signal: NodeJS.Signals): void {
    this.#child?.kill(signal);
  }

  /** Forgets the old process so `connected()` starts a fresh one with the same settings. */
  async restart(): Promise<void> {
    await this.stop();
    this.#child = undefined;
    await this.connected();
  }

  async stop(): Promise<void> {
    if (!this.#child || this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    this.#child.kill("SIGCONT");
    this.#child.kill("SIGKILL");
    await this.exit;
  }
}
