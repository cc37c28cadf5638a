import { type ChildProcess, spawn } from "node:child_process";
import type { Readable } from "node:stream";
import { StringDecoder } from "node:string_decoder";
import { KaiError } from "../../../shared/errors";
import { errnoCode } from "../fs/errors";
import { signalProcessGroup, stopProcessGroup } from "./process-group";

/**
 * The agent's one way to run a child process (scripts, the OpenSpec CLI, git): one program
 * as the leader of a new process group, its output streamed. Stopping (timeout or cancel)
 * signals the whole group, so `sleep 30 &` in a script, or the ssh under a git fetch, dies
 * with it: SIGTERM first, SIGKILL after `killGraceMs` for whatever is still there. When the
 * leader exits by itself, what it left running in its group is stopped the same way: nobody
 * could cancel it afterwards. (A process that calls setsid leaves the group and is not tracked.)
 */
export interface RunOptions {
  file: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
  signal: AbortSignal;
  /** Called in order per stream with at most OUTPUT_CHUNK_BYTES of UTF-8 text each time. */
  onOutput: (stream: "stdout" | "stderr", data: string) => void;
  killGraceMs?: number;
  /** Written to the program's stdin, which is then closed; without it stdin is /dev/null. */
  input?: string;
  /** The error a failure to start becomes; by default one that speaks of a script. */
  startFailure?: (error: NodeJS.ErrnoException) => Error;
}

export interface RunResult {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  cancelled: boolean;
  durationMs: number;
}

/** The most UTF-8 bytes of output in one chunk (keeps relay frames far below their limit). */
export const OUTPUT_CHUNK_BYTES = 64 * 1024;
// A decoder may carry up to 3 bytes of a split character into the next piece.
const SLICE_BYTES = OUTPUT_CHUNK_BYTES - 3;

export function runProcessGroup(options: RunOptions): Promise<RunResult> {
  const started = performance.now();
  const grace = options.killGraceMs ?? 2_000;
  if (options.signal.aborted)
    return Promise.resolve({ exitCode: null, signal: null, timedOut: false, cancelled: true, durationMs: 0 });

  return new Promise((resolve, reject) => {
    const stdin = options.input === undefined ? "ignore" : "pipe";
    const child: ChildProcess = spawn(options.file, options.args, {
      cwd: options.cwd,
      env: options.env,
      detached: true,
      stdio: [stdin, "pipe", "pipe"],
    });
    let timedOut = false;
    let cancelled = false;
    let killTimer: NodeJS.Timeout | undefined;
    let settled = false;

    const signalGroup = (signal: NodeJS.Signals | 0): boolean => signalProcessGroup(child.pid, signal);
    const stopGroup = () => {
      if (killTimer) {
        signalGroup("SIGTERM");
        return;
      }
      killTimer = stopProcessGroup(child.pid, grace);
    };
    const timeout = setTimeout(() => {
      if (cancelled) return;
      timedOut = true;
      stopGroup();
    }, options.timeoutMs);
    const onAbort = () => {
      if (timedOut) return;
      cancelled = true;
      stopGroup();
    };
    options.signal.addEventListener("abort", onAbort, { once: true });
    const finish = () => {
      clearTimeout(timeout);
      options.signal.removeEventListener("abort", onAbort);
    };

    child.stdin?.on("error", () => undefined); // the program may exit before reading all of it
    child.stdin?.end(options.input);
    forward(child.stdout, "stdout", options.onOutput);
    forward(child.stderr, "stderr", options.onOutput);
    child.on("exit", stopGroup);
    child.on("error", (error) => {
      // Only a failure to start ends the run here; later errors (a failed kill) are not fatal.
      if (child.pid !== undefined || settled) return;
      settled = true;
      finish();
      reject(options.startFailure ? options.startFailure(error) : scriptStartFailure(error));
    });
    // "close" comes after the exit and after both pipes ended: every byte was forwarded.
    child.on("close", (exitCode, signal) => {
      if (settled) return;
      settled = true;
      finish();
      // The SIGKILL stays armed only while something of the group may still be alive.
      if (killTimer && !signalGroup(0)) clearTimeout(killTimer);
      resolve({ exitCode, signal, timedOut, cancelled, durationMs: Math.round(performance.now() - started) });
    });
  });
}

function scriptStartFailure(error: NodeJS.ErrnoException): KaiError {
  const code = errnoCode(error);
  return new KaiError(
    code === "ENOENT" ? "NOT_FOUND" : "VALIDATION_ERROR",
    `the script could not be started (${code ?? error.message})`,
  );
}

function forward(stream: Readable | null, name: "stdout" | "stderr", onOutput: RunOptions["onOutput"]): void {
  if (!stream) return;
  const decoder = new StringDecoder("utf8");
  stream.on("data", (buffer: Buffer) => {
    for (let offset = 0; offset < buffer.length; offset += SLICE_BYTES) {
      const text = decoder.write(buffer.subarray(offset, offset + SLICE_BYTES));
      if (text) onOutput(name, text);
    }
  });
  stream.on("end", () => {
    const rest = decoder.end();
    if (rest) onOutput(name, rest);
  });
}
