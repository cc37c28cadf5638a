import Docker from "dockerode";
import { KaiError } from "../../../shared/errors";
import type { ContainerStatus, FlexyContainer, FlexyContainerDetails } from "../../../shared/schemas/flexy";

/** Labels that mark a container as Kai's and record what it was created with. */
export const LABELS = {
  managed: "kai.managed",
  host: "kai.host",
  hostPath: "kai.hostPath",
  containerPath: "kai.containerPath",
} as const;

/**
 * The dockerode client. With no socket path it follows `DOCKER_HOST` (unix://, tcp://,
 * ssh://) like the docker CLI, falling back to the default socket.
 */
export function createDockerClient(options: { socketPath?: string } = {}): Docker {
  return options.socketPath ? new Docker({ socketPath: options.socketPath }) : new Docker();
}

/** Docker's container states mapped onto the Kai API's status words. */
export function toContainerStatus(state: string): ContainerStatus {
  switch (state) {
    case "running":
    case "paused":
    case "restarting":
    case "removing":
    case "created":
      return state;
    default:
      // exited, dead, and anything a future engine adds: the container is not running.
      return "stopped";
  }
}

/** A container from `GET /containers/json` as the Kai API shows it. */
export function toFlexyContainer(info: Docker.ContainerInfo): FlexyContainer {
  const labels = info.Labels ?? {};
  return {
    id: info.Id,
    name: stripSlash(info.Names?.[0] ?? ""),
    status: toContainerStatus(info.State),
    image: info.Image,
    createdAt: new Date(info.Created * 1000).toISOString(),
    hostPath: labels[LABELS.hostPath] ?? null,
    containerPath: labels[LABELS.containerPath] ?? null,
  };
}

/** A container from `GET /containers/{id}/json` with its published ports and bind mounts. */
export function toFlexyContainerDetails(info: Docker.ContainerInspectInfo): FlexyContainerDetails {
  const labels = info.Config?.Labels ?? {};
  return {
    id: info.Id,
    name: stripSlash(info.Name),
    status: toContainerStatus(info.State.Status),
    image: info.Config?.Image ?? info.Image,
    createdAt: isoTime(info.Created),
    hostPath: labels[LABELS.hostPath] ?? null,
    containerPath: labels[LABELS.containerPath] ?? null,
    ports: publishedPorts(info),
    volumes: (info.Mounts ?? [])
      .filter((mount) => mount.Type === "bind")
      .map((mount) => ({ hostPath: mount.Source, containerPath: mount.Destination, mode: mount.RW ? ("rw" as const) : ("ro" as const) })),
  };
}

/**
 * The engine knows the real host ports only while the container runs; before that the
 * requested bindings are all there is, and a random port shows as 0.
 */
function publishedPorts(info: Docker.ContainerInspectInfo): FlexyContainerDetails["ports"] {
  const live: Record<string, Array<{ HostIp: string; HostPort: string }> | null> = info.NetworkSettings?.Ports ?? {};
  const requested: Record<string, Array<{ HostIp?: string; HostPort?: string }> | null> = info.HostConfig?.PortBindings ?? {};
  const source = info.State.Running && Object.keys(live).length > 0 ? live : requested;
  const ports: FlexyContainerDetails["ports"] = [];
  const seen = new Set<string>();
  for (const [key, bindings] of Object.entries(source)) {
    const containerPort = Number.parseInt(key, 10);
    if (!Number.isInteger(containerPort)) continue;
    for (const binding of bindings ?? []) {
      const hostPort = Number.parseInt(binding.HostPort ?? "", 10) || 0;
      // IPv4 and IPv6 bindings of one port are one mapping for the API.
      const id = `${hostPort}:${containerPort}`;
      if (seen.has(id)) continue;
      seen.add(id);
      ports.push({ hostPort, containerPort });
    }
  }
  return ports;
}

/**
 * Docker's inspect time has nanoseconds, its list time whole seconds. Both are shown to the
 * second so one container has one `createdAt` whichever call produced it.
 */
function isoTime(value: string): string {
  const millis = Date.parse(value.replace(/(\.\d{3})\d+/, "$1"));
  return Number.isNaN(millis) ? value : new Date(Math.floor(millis / 1000) * 1000).toISOString();
}

function stripSlash(name: string): string {
  return name.startsWith("/") ? name.slice(1) : name;
}

const UNREACHABLE_CODES = new Set(["ECONNREFUSED", "ENOENT", "EACCES", "EPERM", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN"]);

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
      return new KaiError("DOCKER_ERROR", `the Docker engine is unreachable (${code}${where ? ` ${where}` : ""}): ${hint}`);
    }
    if (stringField(error, "name") === "AbortError") return new KaiError("DOCKER_ERROR", "the request was cancelled before Docker answered");
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
