import type Docker from "dockerode";
import { KaiError } from "../../../shared/errors";
import type { Logger } from "../../log";
import { dockerError, httpStatus } from "./client";
import { extraNetworks, recreateOptions } from "./container-spec";
import { stripSlash } from "./containers";
import { isImageId } from "./services";

/**
 * `service.update`: pull the container's image tag and, when the tag then names a
 * different image than the one the container runs, make the container again on it with
 * the same name and settings. The old container is parked under another name until the
 * new one has shown it stays up; if it does not, the old one is put back as it was.
 */

export interface UpdateOptions {
  /** Seconds the old container gets to stop before it is killed. */
  stopTimeoutSeconds: number;
  /** How long the new container must keep running to count as started. */
  settleMs?: number;
  log?: Logger;
}

export interface UpdateOutcome {
  /** The container now serving under the name: the new one, or the old one when nothing changed. */
  containerId: string;
  image: string;
  updated: boolean;
}

/** Words of Docker's pull errors when no registry answered (DNS, TCP, TLS, timeouts). */
const UNREACHABLE =
  /dial tcp|no such host|connection refused|network is unreachable|i\/o timeout|TLS handshake timeout|Client\.Timeout|connection reset|no route to host|temporary failure in name resolution/i;

export async function updateContainer(
  docker: Docker,
  info: Docker.ContainerInspectInfo,
  options: UpdateOptions,
): Promise<UpdateOutcome> {
  const image = info.Config?.Image ?? info.Image;
  const unchanged = { containerId: info.Id, image, updated: false };
  // Made from an image id: there is no tag that could point anywhere newer.
  if (isImageId(image)) return unchanged;

  const pullError = await pull(docker, image);
  const latest = await localImageId(docker, image);
  if (pullError && (latest === undefined || latest === info.Image)) {
    const message = pullError.message;
    if (UNREACHABLE.test(message))
      throw new KaiError(
        "NETWORK_ERROR",
        `${registryOf(image)} cannot be reached to pull ${image}; nothing was changed`,
        { details: { docker: message } },
      );
    throw new KaiError("DOCKER_ERROR", `pulling ${image} failed: ${message}; nothing was changed`);
  }
  if (latest === undefined)
    throw new KaiError("DOCKER_ERROR", `image ${image} is not on this host after pulling it; nothing was changed`);
  if (latest === info.Image) return unchanged;
  options.log?.("info", "updating container", {
    container: stripSlash(info.Name),
    image,
    from: info.Image.slice(7, 19),
    to: latest.slice(7, 19),
  });
  return { containerId: await recreate(docker, info, image, options), image, updated: true };
}

async function recreate(
  docker: Docker,
  info: Docker.ContainerInspectInfo,
  image: string,
  options: UpdateOptions,
): Promise<string> {
  const name = stripSlash(info.Name);
  const oldImage = await docker
    .getImage(info.Image)
    .inspect()
    .then((found) => found.Config)
    .catch(() => undefined);
  const createOptions = recreateOptions(info, oldImage, image);
  const wasRunning = info.State.Running;
  const old = docker.getContainer(info.Id);

  if (wasRunning) await ignoring304(old.stop({ t: options.stopTimeoutSeconds }));
  try {
    await old.rename({ name: `${name}-kai-old-${Date.now()}` });
  } catch (error) {
    if (wasRunning) await ignoring304(old.start()).catch(() => undefined);
    throw dockerError(error);
  }

  let created: Docker.Container | undefined;
  try {
    created = await docker.createContainer(createOptions);
    for (const [network, endpoint] of extraNetworks(info))
      await docker.getNetwork(network).connect({ Container: created.id, EndpointConfig: endpoint });
    // A stopped service stays stopped: it is updated, not started.
    if (wasRunning) await checkStaysUp(created, options.settleMs ?? 1_500);
  } catch (error) {
    const why = error instanceof StartFailure ? error.message : `could not be made (${dockerError(error).message})`;
    const rollback = await putBack(old, created, name, wasRunning);
    throw new KaiError("DOCKER_ERROR", `${name}: the container on the new image ${why}; ${rollback}`);
  }

  // The new container now owns the volumes, so they stay (v: false).
  await old.remove({ force: true, v: false }).catch((error) => {
    options.log?.("warn", "the old container could not be removed after an update", {
      container: info.Id.slice(0, 12),
      error: dockerError(error).message,
    });
  });
  return created.id;
}

class StartFailure extends Error {}

async function checkStaysUp(container: Docker.Container, settleMs: number): Promise<void> {
  await container.start();
  await new Promise((resolve) => setTimeout(resolve, settleMs));
  const { State: state, RestartCount: restarts } = await container.inspect();
  // A restart policy can make a crashing container look running between two crashes (the
  // engine resets its exit code on each start), so a restart during the wait counts as a crash.
  if (!state.Running || state.Restarting || state.ExitCode !== 0 || restarts > 0) {
    const exit =
      restarts > 0 ? `restarted ${restarts} time${restarts === 1 ? "" : "s"}` : `exit code ${state.ExitCode}`;
    throw new StartFailure(`did not keep running (${exit}${state.Error ? `, ${state.Error}` : ""})`);
  }
}

/** Removes the new container and gives the old one back its name and state. */
async function putBack(
  old: Docker.Container,
  created: Docker.Container | undefined,
  name: string,
  wasRunning: boolean,
): Promise<string> {
  const failures: string[] = [];
  const step = (what: string) => (error: unknown) => {
    failures.push(`${what}: ${dockerError(error).message}`);
  };
  if (created) await created.remove({ force: true, v: false }).catch(step("removing the new container"));
  await old.rename({ name }).catch(step("renaming the old container back"));
  if (wasRunning) await ignoring304(old.start()).catch(step("starting the old container"));
  return failures.length === 0
    ? `the update was rolled back and ${name} runs the old image again`
    : `the update was rolled back only in part (${failures.join("; ")})`;
}

/** Pulls `image`; answers the failure instead of throwing it. */
async function pull(docker: Docker, image: string): Promise<Error | undefined> {
  try {
    const stream = await docker.pull(image);
    // Errors after the pull started arrive as `{"error": …}` lines, which followProgress reports.
    await new Promise<void>((resolve, reject) => {
      docker.modem.followProgress(stream, (error: Error | null, output: unknown[]) => {
        const line = output?.find((entry) => typeof entry === "object" && entry !== null && "error" in entry);
        if (error) reject(error);
        else if (line && typeof line === "object" && "error" in line) reject(new Error(String(line.error)));
        else resolve();
      });
    });
    return undefined;
  } catch (error) {
    return new Error(dockerError(error).message);
  }
}

async function localImageId(docker: Docker, image: string): Promise<string | undefined> {
  try {
    return (await docker.getImage(image).inspect()).Id;
  } catch (error) {
    if (httpStatus(error) === 404) return undefined;
    throw dockerError(error);
  }
}

/** The registry a reference is pulled from: its first part when that names a host, else Docker Hub. */
function registryOf(image: string): string {
  const first = image.split("/")[0] ?? "";
  return image.includes("/") && (first.includes(".") || first.includes(":") || first === "localhost")
    ? first
    : "docker.io";
}

async function ignoring304(action: Promise<unknown>): Promise<void> {
  try {
    await action;
  } catch (error) {
    if (httpStatus(error) !== 304) throw error;
  }
}
