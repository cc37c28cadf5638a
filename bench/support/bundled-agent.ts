import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { ROOT } from "../../test/support/edge-server";
import { INSPECTOR_LINE } from "./inspector";

/**
 * The agent as a machine runs it: one bundled file, `node dist/kai-agent.mjs`. Unlike the
 * tests' AgentProcess (tsx from source), every log line is stamped with the moment the
 * bench read it, so reconnect times can be taken from the agent's own ` connected ` lines.
 */

const AGENT_BUNDLE = path.join(ROOT, "dist", "kai-agent.mjs");
const execFileAsync = promisify(execFile);
/** Lines kept besides the connection lifecycle ones; a relay bench makes the agent log thousands. */
const KEPT_LINES = 200;
/** Connection lifecycle and every warning or error: what explains a reconnect. */
const LIFECYCLE = / (connected|disconnected|connecting|reconnecting|stopping) | (WARN|ERROR) /;

let built: Promise<{ file: string; bytes: number }> | undefined;

/** Builds dist/kai-agent.mjs once per run (`npm run build:agent`), so the bench measures the current code. */
export function buildAgentBundle(): Promise<{ file: string; bytes: number }> {
  built ??= (async () => {
    await execFileAsync("npm", ["run", "--silent", "build:agent"], { cwd: ROOT });
    return { file: AGENT_BUNDLE, bytes: (await stat(AGENT_BUNDLE)).size };
  })();
  return built;
}

export interface AgentLine {
  /** performance.now() when the bench read the line. */
  at: number;
  line: string;
}

export class BundledAgent {
  /** Connection lifecycle lines, warnings and errors, all of them, in order. */
  readonly lifecycle: AgentLine[] = [];
  /** The last few lines of any kind, for error messages. */
  readonly recent: string[] = [];
  #child: ChildProcess | undefined;
  #dir: string | undefined;
  #exit: Promise<void> = Promise.resolve();
  #waiters: { pattern: RegExp; after: number; resolve: (line: AgentLine) => void }[] = [];

  /** Where the agent's inspector listens, when it was started with `--inspect`. */
  readonly inspectorUrl: Promise<string>;
  #inspectorFound: (url: string) => void = () => undefined;

  constructor(
    readonly server: string,
    readonly token: string,
    readonly allowedRoot: string,
    /** Node's own options, before the bundle (e.g. `--inspect=127.0.0.1:0`). */
    readonly nodeArgs: string[] = [],
    /** More of the policy file than the allowed root (agent profiles, say). */
    readonly policy: Record<string, unknown> = {},
  ) {
    this.inspectorUrl = new Promise((resolve) => (this.#inspectorFound = resolve));
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  async start(): Promise<void> {
    await buildAgentBundle();
    this.#dir = await mkdtemp(path.join(os.tmpdir(), "kai-bench-agent-"));
    const policy = path.join(this.#dir, "policy.json");
    await writeFile(policy, JSON.stringify({ ...this.policy, allowedRoots: [this.allowedRoot] }));
    // The token in a 0600 file, as a service manager would hand it over: never on the command line.
    const tokenFile = path.join(this.#dir, "token");
    await writeFile(tokenFile, `${this.token}\n`, { mode: 0o600 });
    const { KAI_TOKEN: _ignored, ...env } = process.env;
    const child = spawn(
      process.execPath,
      [...this.nodeArgs, AGENT_BUNDLE, "--server", this.server, "--token-file", tokenFile, "--policy", policy],
      {
        cwd: this.#dir,
        env: { ...env, KAI_CONFIG: "", KAI_SERVER: "", KAI_POLICY: "", XDG_CONFIG_HOME: this.#dir, HOME: this.#dir },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    this.#child = child;
    let buffered = "";
    // Always drained: a full pipe would block the agent and distort every figure.
    const onData = (chunk: Buffer) => {
      const at = performance.now();
      buffered += chunk.toString();
      const parts = buffered.split("\n");
      buffered = parts.pop() ?? "";
      for (const line of parts) this.#read({ at, line });
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    this.#exit = new Promise((resolve) => child.once("exit", () => resolve()));
  }

  #read(entry: AgentLine): void {
    const inspector = INSPECTOR_LINE.exec(entry.line);
    if (inspector?.[1]) this.#inspectorFound(inspector[1]);
    this.recent.push(entry.line);
    if (this.recent.length > KEPT_LINES) this.recent.shift();
    if (!LIFECYCLE.test(entry.line)) return;
    this.lifecycle.push(entry);
    this.#waiters = this.#waiters.filter((waiter) => {
      if (entry.at < waiter.after || !waiter.pattern.test(entry.line)) return true;
      waiter.resolve(entry);
      return false;
    });
  }

  /** The first lifecycle line matching `pattern` read at or after `after` (performance.now()). */
  waitFor(pattern: RegExp, after: number, timeoutMs: number): Promise<AgentLine> {
    const seen = this.lifecycle.find((entry) => entry.at >= after && pattern.test(entry.line));
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((waiter) => waiter.resolve !== done);
        reject(
          new Error(
            `agent ${this.pid} never logged ${pattern} within ${timeoutMs} ms; last lines:\n${this.recent.slice(-10).join("\n")}`,
          ),
        );
      }, timeoutMs);
      const done = (line: AgentLine) => {
        clearTimeout(timer);
        resolve(line);
      };
      this.#waiters.push({ pattern, after, resolve: done });
    });
  }

  /** Starts the agent and waits for the edge's welcome. */
  async connected(timeoutMs = 30_000): Promise<AgentLine> {
    const after = performance.now();
    if (!this.#child) await this.start();
    return this.waitFor(/ connected /, after, timeoutMs);
  }

  /** SIGTERM (the agent closes its socket and exits), SIGKILL after 3 s; removes its temp dir. */
  async stop(): Promise<void> {
    const child = this.#child;
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const killer = setTimeout(() => child.kill("SIGKILL"), 3000);
      await this.#exit;
      clearTimeout(killer);
    }
    if (this.#dir) await rm(this.#dir, { recursive: true, force: true });
    this.#dir = undefined;
  }
}
