import { DOCKER_STATE_TOPIC, type HelloFrame } from "../../shared/protocol";
import type { Logger } from "../log";

type DockerState = HelloFrame["docker"];

export interface DockerStateReporterOptions {
  /** Asks the engine for its current state. */
  dockerState: () => Promise<DockerState>;
  /** The state the edge knows already (the one `hello` carried); undefined: none yet. */
  reported: DockerState | undefined;
  publish: (topic: string, data: unknown) => void;
  /** False once the socket is closing: a state found then has nobody to go to. */
  canPublish: () => boolean;
  intervalMs: number;
  log: Logger;
  /** Aborts as the connection ends; the reporter stops with it. */
  signal: AbortSignal;
}

/**
 * Re-checks the Docker engine's state every `intervalMs` for as long as one connection is
 * welcomed, and publishes it on DOCKER_STATE_TOPIC when it changed (the engine started,
 * stopped, or was upgraded). It runs beside the container-event watcher, for the same span.
 */
export function reportDockerState(options: DockerStateReporterOptions): void {
  const { dockerState, publish, canPublish, intervalMs, log, signal } = options;
  if (signal.aborted) return;
  let last = options.reported ? JSON.stringify(options.reported) : "";
  const timer = setInterval(async () => {
    const docker = await dockerState();
    if (JSON.stringify(docker) === last || !canPublish() || signal.aborted) return;
    last = JSON.stringify(docker);
    log(docker.ok ? "info" : "warn", docker.ok ? "docker engine reachable" : "docker engine unreachable", {
      version: docker.version ?? undefined,
    });
    publish(DOCKER_STATE_TOPIC, docker);
  }, intervalMs);
  signal.addEventListener("abort", () => clearInterval(timer), { once: true });
}
