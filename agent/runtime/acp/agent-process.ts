import { type ChildProcess, spawn } from "node:child_process";
import { Readable, Writable } from "node:stream";
import { AGENT_STOP_GRACE_MS } from "../../../shared/commands";
import { KaiError } from "../../../shared/errors";
import { errnoCode } from "../fs/errors";
import { childEnv } from "../process/child-env";
import { signalProcessGroup, stopProcessGroup } from "../process/process-group";
import type { AgentProfile } from "./agent-profiles";

/** How much of the agent's stderr is kept for error messages: its last 4 KiB. */
const STDERR_TAIL_BYTES = 4096;

export interface ProcessExit {
  code: number | null;
  signal: string | null;
}

/**
 * One coding agent's process (a profile's command), run in the workspace root as the leader
 * of its own process group, its stdio piped for ACP. Its stderr is kept only as a bounded tail:
 * it is what explains a crash.
 */
export class AgentProcess {
  readonly #child: ChildProcess;
  readonly #profile: string;
  #stderr = "";
  #exit: ProcessExit | undefined;
  /** The one SIGKILL timer of the group's stop, whichever started it first (stop() or the exit). */
  #killTimer: NodeJS.Timeout | undefined;
  readonly exited: Promise<ProcessExit>;

  private constructor(child: ChildProcess, profile: string) {
    this.#child = child;
    this.#profile = profile;
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (text: string) => {
      this.#stderr = (this.#stderr + text).slice(-STDERR_TAIL_BYTES);
    });
    // A dead agent does not read its stdin: a late write must not crash kai-agent.
    child.stdin?.on("error", () => undefined);
    this.exited = new Promise((resolve) => {
      child.once("close", (code, signal) => {
        this.#exit = { code, signal };
        // Whatever the agent left running in its group has nobody to stop it now (stop() may be at it already).
        this.#stopGroup(AGENT_STOP_GRACE_MS);
        resolve(this.#exit);
      });
    });
  }

  /** Starts `profile` in `cwd`; a command that cannot start is AGENT_PROCESS_FAILED naming the profile. */
  static start(profile: AgentProfile, cwd: string): Promise<AgentProcess> {
    const child = spawn(profile.executable, profile.args, {
      cwd,
      env: { ...childEnv(), ...profile.env },
      detached: true,
      stdio: ["pipe", "pipe", "pipe"],
    });
    return new Promise((resolve, reject) => {
      child.once("spawn", () => resolve(new AgentProcess(child, profile.name)));
      child.once("error", (error: NodeJS.ErrnoException) => {
        if (child.pid !== undefined) return; // a later error (a failed kill) is not a failure to start
        const why = errnoCode(error) === "ENOENT" ? `${profile.executable} not found` : error.message;
        reject(
          new KaiError(
            "AGENT_PROCESS_FAILED",
            `${profile.name}: cannot start ${profile.command} (${why}); check the profile in kai-agent's policy file`,
          ),
        );
      });
    });
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  get alive(): boolean {
    return this.#exit === undefined;
  }

  /** The last 4 KiB the agent wrote to stderr. */
  get stderrTail(): string {
    return this.#stderr.trim();
  }

  /** stdin and stdout as web streams, which the ACP SDK's ndJsonStream takes. */
  streams(): { input: WritableStream<Uint8Array>; output: ReadableStream<Uint8Array> } {
    const { stdin, stdout } = this.#child;
    if (!stdin || !stdout) throw new Error("the agent process has no piped stdio");
    return {
      input: Writable.toWeb(stdin) as WritableStream<Uint8Array>,
      output: Readable.toWeb(stdout) as ReadableStream<Uint8Array>,
    };
  }

  /** A KaiError for a failure of this agent: why, with its exit and the tail of its stderr. */
  failure(why: string): KaiError {
    return new KaiError("AGENT_PROCESS_FAILED", this.describe(why));
  }

  /** `<profile>: <why>[, exit]; stderr: <tail>` for messages and the session state. */
  describe(why: string): string {
    const exit = this.#exit ? `; ${exitText(this.#exit)}` : "";
    const stderr = this.stderrTail ? `; stderr: ${this.stderrTail}` : "";
    return `${this.#profile}: ${why}${exit}${stderr}`;
  }

  /** SIGTERM to the group, SIGKILL after `graceMs`; resolves once the agent has exited. */
  async stop(graceMs = AGENT_STOP_GRACE_MS): Promise<ProcessExit> {
    if (this.#exit) return this.#exit;
    this.#stopGroup(graceMs);
    const exit = await this.exited;
    // The group is gone with its leader: no SIGKILL later (its id could be someone else's by then).
    if (!signalProcessGroup(this.#child.pid, 0)) clearTimeout(this.#killTimer);
    return exit;
  }

  /** SIGTERM to the group and one SIGKILL timer for what is left; a second stop adds neither. */
  #stopGroup(graceMs: number): void {
    if (this.#killTimer) return;
    this.#killTimer = stopProcessGroup(this.#child.pid, graceMs);
  }
}

function exitText(exit: ProcessExit): string {
  return exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.code}`;
}
