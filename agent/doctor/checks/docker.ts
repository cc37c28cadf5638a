import os from "node:os";
import type Docker from "dockerode";
import type { DoctorCheck } from "../../../shared/schemas/doctor";
import { createDockerClient, RemoteEngineError } from "../../runtime/docker/client";
import { engineVersion } from "../../runtime/docker/engine-version";
import { codeOf, fail, pass, reasonOf } from "../report";
import { NETWORK_TIMEOUT_MS } from "./server";

const DEFAULT_SOCKET = "/var/run/docker.sock";

/** Where kai-agent looks for Docker, as it would: --docker-socket, else DOCKER_HOST, else the default socket. */
function dockerTarget(socket: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (socket) return `unix://${socket}`;
  return env.DOCKER_HOST || `unix://${DEFAULT_SOCKET}`;
}

const userName = () => {
  try {
    return os.userInfo().username;
  } catch {
    return `uid ${process.getuid?.() ?? "?"}`;
  }
};

/**
 * The Docker engine answers `version` over the socket kai-agent uses, and this user may open it.
 * Inside the agent `docker` is its own client (the one its handlers use); the CLI makes one.
 */
export async function checkDocker(socket: string | undefined, docker?: Docker): Promise<DoctorCheck> {
  const target = dockerTarget(socket);
  try {
    const version = await engineVersion(
      docker ?? createDockerClient(socket ? { socketPath: socket } : {}),
      NETWORK_TIMEOUT_MS,
    );
    return pass("docker", `Docker ${version.Version} answers at ${target}`);
  } catch (error) {
    return dockerFailure(target, error);
  }
}

function dockerFailure(target: string, error: unknown): DoctorCheck {
  if (error instanceof RemoteEngineError) return fail("docker", error.message, error.fix);
  const code = codeOf(error);
  const socket = target.startsWith("unix://") ? target.slice("unix://".length) : target;
  const startDocker =
    "start Docker (sudo systemctl start docker on Linux, or open Docker Desktop), or point kai-agent at " +
    "its socket with --docker-socket PATH";
  switch (code) {
    case "EACCES":
    case "EPERM":
      return fail(
        "docker",
        `permission denied on ${socket}: ${userName()} may not use Docker (not in the socket's group)`,
        "add yourself to the docker group: sudo usermod -aG docker $USER, then log out and back in " +
          "(or run newgrp docker) and restart kai-agent",
      );
    case "ENOENT":
      return fail("docker", `no Docker socket at ${socket}: Docker is not running or not installed`, startDocker);
    case "ECONNREFUSED":
      return fail("docker", `nothing listens on ${socket}: Docker is not running`, startDocker);
    case "ETIMEDOUT":
      return fail(
        "docker",
        `Docker did not answer at ${target} within ${NETWORK_TIMEOUT_MS / 1000} s`,
        "Docker may be starting or stuck: check it with docker info, restart it if it hangs",
      );
    default:
      return fail("docker", `Docker at ${target} failed: ${reasonOf(error)}`, "check it with: docker info");
  }
}
