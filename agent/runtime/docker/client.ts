import Docker from "dockerode";
import { KaiError } from "../../../shared/errors";

/**
 * The dockerode client: on `socketPath` when given, else where `DOCKER_HOST` says (unix:// or
 * tcp://) like the docker CLI, else the default socket. Throws RemoteEngineError for an ssh://
 * engine.
 */
export function createDockerClient(options: { socketPath?: string } = {}): Docker {
  const refused = refusedEngine(options);
  if (refused) throw refused;
  // docker-modem reads DOCKER_HOST itself, and a host from it would win over socketPath.
  if (options.socketPath)
    return new Docker({ socketPath: options.socketPath, host: undefined, port: undefined, protocol: "http" });
  return new Docker();
}

/**
 * The refusal of the engine kai-agent would drive, when DOCKER_HOST names one over ssh and no
 * socket path overrides it. Its scheme is read as docker-modem reads it (a URL, so `SSH://` too).
 */
export function refusedEngine(
  options: { socketPath?: string },
  env: NodeJS.ProcessEnv = process.env,
): RemoteEngineError | undefined {
  const host = env.DOCKER_HOST?.trim();
  if (options.socketPath || !host) return undefined;
  let url: URL;
  try {
    url = new URL(host.includes("//") ? host : `tcp://${host}`);
  } catch {
    return undefined; // dockerode refuses it with its own words
  }
  return url.protocol === "ssh:" ? new RemoteEngineError(url) : undefined;
}

/**
 * An engine reached over ssh runs on another machine, and kai-agent binds this machine's
 * directories into containers and works on this machine's files: the two would not see the
 * same disk. So the agent is built without dockerode's ssh transport (scripts/left-out-modules.ts,
 * about 330 KB of every agent's memory) and says what to do instead.
 */
export class RemoteEngineError extends Error {
  readonly fix = "run kai-agent on that machine, or unset DOCKER_HOST (or pass --docker-socket PATH)";

  constructor(url: URL) {
    // Never a password from the URL in a log or a doctor report.
    const shown = `ssh://${url.username ? `${url.username}@` : ""}${url.host}${url.pathname}`;
    super(
      `DOCKER_HOST=${shown} is an engine on another machine; kai-agent drives the engine of the machine it runs ` +
        "on, whose directories it binds into containers",
    );
  }
}

const UNREACHABLE_CODES = new Set([
  "ECONNREFUSED",
  "ENOENT",
  "EACCES",
  "EPERM",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

/**
 * Maps a dockerode failure to a KaiError: 404 → CONTAINER_NOT_FOUND (the handlers only call
 * this for container operations; an image that is missing is answered before this), 409 →
 * CONFLICT with Docker's message, an engine that cannot be reached → DOCKER_ERROR saying so,
 * anything else → DOCKER_ERROR with Docker's own message. Never carries a stack.
 */
export function dockerError(error: unknown, options: { notFoundMessage?: string } = {}): KaiError {
  if (error instanceof KaiError) return error;
  const statusCode = numberField(error, "statusCode");
  const message = engineMessage(error);
  if (statusCode === 404) return new KaiError("CONTAINER_NOT_FOUND", options.notFoundMessage ?? message);
  if (statusCode === 409) return new KaiError("CONFLICT", message);
  if (statusCode === undefined) {
    const code = stringField(error, "code");
    if (code !== undefined && UNREACHABLE_CODES.has(code)) {
      const where = stringField(error, "address") ?? stringField(error, "hostname");
      const hint =
        code === "EACCES" || code === "EPERM"
          ? "the agent's user may not use the Docker socket (add it to the docker group)"
          : "start the Docker engine (e.g. `sudo systemctl start docker`) and try again";
      return new KaiError(
        "DOCKER_ERROR",
        `the Docker engine is unreachable (${code}${where ? ` ${where}` : ""}): ${hint}`,
      );
    }
    if (stringField(error, "name") === "AbortError")
      return new KaiError("DOCKER_ERROR", "the request was cancelled before Docker answered");
  }
  return new KaiError("DOCKER_ERROR", message);
}

/** Docker's own words: the JSON body's `message`, else dockerode's text without its prefix. */
function engineMessage(error: unknown): string {
  const fromBody = stringField(field(error, "json"), "message");
  if (fromBody) return fromBody.trim();
  const text = stringField(error, "message") ?? String(error);
  return text.replace(/^\(HTTP code \d+\) [^-]*- /, "").trim() || "Docker request failed";
}

function field(value: unknown, key: string): unknown {
  return typeof value === "object" && value !== null ? Reflect.get(value, key) : undefined;
}

function stringField(value: unknown, key: string): string | undefined {
  const found = field(value, key);
  return typeof found === "string" ? found : undefined;
}

function numberField(value: unknown, key: string): number | undefined {
  const found = field(value, key);
  return typeof found === "number" ? found : undefined;
}

/** The HTTP status Docker answered with, if the failure was an answer at all. */
export function httpStatus(error: unknown): number | undefined {
  return numberField(error, "statusCode");
}
