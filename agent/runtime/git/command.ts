import path from "node:path";
import { GIT_NETWORK_DEADLINE_MS } from "../../../shared/commands";
import { KaiError } from "../../../shared/errors";
import { runProcessGroup } from "../process/run-process-group";
import { gitMistake, type PathNames } from "./mistakes";

/**
 * Runs the real `git` binary for one workspace, through the process runner with an argument array rather
 * than simple-git: no shell, no extra dependency, and every argument we pass is visible
 * here (simple-git builds its own argument lists, which would hide where `--end-of-options`
 * goes). Each run is confined to the workspace and can never wait for a human:
 * - `-C <root>` and GIT_CEILING_DIRECTORIES=<root's parent>: a workspace that is not itself a
 *   repository never falls through to an enclosing one (its commits would reach outside);
 * - the agent's own GIT_DIR/GIT_WORK_TREE/author variables are dropped, so nothing leaks in;
 * - no pager, no editor, no terminal prompt, and its own session (`detached`) so ssh has no
 *   tty to ask on; a timeout and the request's abort signal stop the whole process group;
 * - LC_ALL=C, because outcomes are told apart by git's (English) messages.
 */

/**
 * Below the edge's wait for an answer (AGENT_TIMEOUT_MS, 30 s by default), so a slow git
 * ends as git's own error rather than an anonymous AGENT_TIMEOUT.
 */
const GIT_TIMEOUT_MS = 25_000;
/** Push and pull talk to a remote: their deadline in the command table; running out is a network error. */
const GIT_NETWORK_TIMEOUT_MS = GIT_NETWORK_DEADLINE_MS;
const MAX_OUTPUT_BYTES = 16 * 1024 * 1024;

export interface GitRun {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export interface GitOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
  /** Written to git's stdin (a commit message, never an argument). */
  input?: string;
  env?: Record<string, string>;
  /** Paths as git received them → as the client wrote them, to name them in an error. */
  paths?: PathNames;
}

/** Inherited variables that would point git at another repository or identity. */
const DROPPED_ENV =
  /^GIT_(DIR|WORK_TREE|INDEX_FILE|OBJECT_DIRECTORY|ALTERNATE_OBJECT_DIRECTORIES|COMMON_DIR|NAMESPACE|PREFIX|CEILING_DIRECTORIES|DISCOVERY_ACROSS_FILESYSTEM|AUTHOR_\w+|COMMITTER_\w+|CONFIG_PARAMETERS|CONFIG_COUNT|CONFIG_KEY_\d+|CONFIG_VALUE_\d+|EDITOR|SEQUENCE_EDITOR|PAGER)$/;

function gitEnv(root: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!DROPPED_ENV.test(key)) env[key] = value;
  return {
    ...env,
    GIT_CEILING_DIRECTORIES: path.dirname(root),
    GIT_TERMINAL_PROMPT: "0",
    GCM_INTERACTIVE: "never",
    SSH_ASKPASS_REQUIRE: "never",
    GIT_PAGER: "cat",
    PAGER: "cat",
    GIT_EDITOR: ":",
    GIT_OPTIONAL_LOCKS: "0",
    // Pathspecs are file names, never `:(glob)`-style magic.
    GIT_LITERAL_PATHSPECS: "1",
    LC_ALL: "C",
    LANGUAGE: "",
    ...extra,
  };
}

/**
 * Runs `git -C root ...args` and answers however it ended; only a spawn failure or an abort
 * throws. It runs through the agent's one process runner, so a timeout or cancel stops git
 * and whatever it started (ssh, credential helpers) the same way as a script: SIGTERM to the
 * group, SIGKILL after a grace period.
 */
export async function runGit(root: string, args: string[], options: GitOptions = {}): Promise<GitRun> {
  options.signal?.throwIfAborted();
  const tooMuch = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, tooMuch.signal]) : tooMuch.signal;
  const output = { stdout: [] as string[], stderr: [] as string[] };
  let bytes = 0;
  const run = await runProcessGroup({
    file: "git",
    args: ["--no-pager", "-C", root, ...args],
    cwd: root,
    env: gitEnv(root, options.env),
    timeoutMs: options.timeoutMs ?? GIT_TIMEOUT_MS,
    signal,
    ...(options.input === undefined ? {} : { input: options.input }),
    onOutput: (stream, text) => {
      if (tooMuch.signal.aborted) return;
      bytes += Buffer.byteLength(text);
      if (bytes > MAX_OUTPUT_BYTES) tooMuch.abort();
      else output[stream].push(text);
    },
    startFailure: (error) =>
      error.code === "ENOENT" ? new KaiError("INTERNAL_ERROR", "git is not installed on this host") : error,
  });
  if (options.signal?.aborted) throw options.signal.reason;
  if (tooMuch.signal.aborted)
    throw new KaiError("INTERNAL_ERROR", `git ${args[0]} answered more than ${MAX_OUTPUT_BYTES} bytes`);
  return { code: run.exitCode, stdout: output.stdout.join(""), stderr: output.stderr.join(""), timedOut: run.timedOut };
}

/** Runs git and answers its stdout; any failure becomes the matching Kai error. */
export async function git(root: string, args: string[], options: GitOptions = {}): Promise<string> {
  const run = await runGit(root, args, options);
  if (run.code !== 0)
    throw gitFailure(run, args[0] ?? "git", (options.timeoutMs ?? 0) >= GIT_NETWORK_TIMEOUT_MS, options.paths);
  return run.stdout;
}

const NETWORK =
  /Could not read from remote repository|unable to access|Could not resolve host|Connection refused|Connection timed out|Network is unreachable|does not appear to be a git repository|unable to connect|The remote end hung up|early EOF/i;
const AUTH =
  /Authentication failed|could not read (Username|Password)|terminal prompts disabled|Permission denied \(publickey/i;

/** A failed git run as a Kai error; `network` when the command talks to a remote. */
export function gitFailure(run: GitRun, command: string, network = false, paths?: PathNames): KaiError {
  const output = clip(`${run.stderr}\n${run.stdout}`.trim());
  const details = { output };
  if (run.timedOut) {
    const seconds = network ? GIT_NETWORK_TIMEOUT_MS / 1000 : GIT_TIMEOUT_MS / 1000;
    return new KaiError(
      network ? "NETWORK_ERROR" : "INTERNAL_ERROR",
      `git ${command} did not finish within ${seconds} s`,
      { details },
    );
  }
  if (/not a git repository/i.test(output))
    return new KaiError("VALIDATION_ERROR", "not a git repository", { details });
  if (/dubious ownership/i.test(output))
    return new KaiError("PERMISSION_DENIED", "git refuses this repository: it belongs to another user", { details });
  if (AUTH.test(output))
    return new KaiError("PERMISSION_DENIED", "the remote asked for credentials this host does not have", { details });
  if (NETWORK.test(output))
    return new KaiError("NETWORK_ERROR", `cannot reach the remote: ${firstLine(output)}`, { details });
  if (/Please tell me who you are|identity unknown/i.test(output)) {
    // A pull that has to merge writes a merge commit; the command carries no author for it.
    return new KaiError(
      "VALIDATION_ERROR",
      "git has no user name and email on this host for the commit it has to write (git config user.name / user.email)",
      { details },
    );
  }
  // A mistake of the request or of the workspace's state: a 4xx in Kai's words, not git's.
  const mistake = gitMistake(output, paths);
  if (mistake) return mistake;
  if (/nothing to commit|nothing added to commit|no changes added to commit/i.test(output))
    return new KaiError("CONFLICT", "nothing to commit", { details });
  return new KaiError("INTERNAL_ERROR", `git ${command} failed: ${firstLine(output)}`, { details });
}

/**
 * Refuses a branch or remote name before git sees it as anything else. The zod schema has
 * already checked it; this is the agent's own check (its policy holds whatever the edge
 * sends): nothing option-like or odd reaches git, and git itself must agree it is a valid
 * branch name, unchanged (`@{-1}` would be expanded to another branch).
 */
export async function assertRefName(root: string, name: string, what: string): Promise<void> {
  if (
    typeof name !== "string" ||
    name.length === 0 ||
    name.length > 255 ||
    name.startsWith("-") ||
    /[\s\x00-\x1f\x7f]/.test(name)
  ) {
    throw new KaiError("VALIDATION_ERROR", `invalid ${what} name: ${JSON.stringify(name)}`);
  }
  // `--branch <name>` is parsed positionally by check-ref-format; the name cannot become an option.
  const run = await runGit(root, ["check-ref-format", "--branch", name]);
  if (run.code !== 0 || run.stdout.trim() !== name)
    throw new KaiError("VALIDATION_ERROR", `invalid ${what} name: ${JSON.stringify(name)}`);
}

function firstLine(text: string): string {
  const line = text.split("\n").find((candidate) => candidate.trim() !== "") ?? "";
  return line.replace(/^(fatal|error): /, "").trim();
}

function clip(text: string): string {
  return text.length > 4000 ? `${text.slice(0, 4000)}…` : text;
}
