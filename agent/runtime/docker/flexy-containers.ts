import type Docker from "dockerode";
import type { ContainerStatus, FlexyContainer, FlexyContainerDetails } from "../../../shared/schemas/flexy";
import { engineStatus, LABELS, stripSlash } from "./containers";

/** Kai's own containers as the Flexy API shows them. Every Docker detail becomes an API field here. */

/** Docker's container states mapped onto the Kai API's status words. */
export function toContainerStatus(state: string): ContainerStatus {
  const status = engineStatus(state);
  // The Flexy API has no `dead`: such a container is not running, so it is stopped.
  return status === "dead" ? "stopped" : status;
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
      .map((mount) => ({
        hostPath: mount.Source,
        containerPath: mount.Destination,
        mode: mount.RW ? ("rw" as const) : ("ro" as const),
      })),
  };
}

/**
 * The engine knows the real host ports only while the container runs; before that the
 * requested bindings are all there is, and a random port shows as 0.
 */
function publishedPorts(info: Docker.ContainerInspectInfo): FlexyContainerDetails["ports"] {
  const live: Record<string, Array<{ HostIp: string; HostPort: string }> | null> = info.NetworkSettings?.Ports ?? {};
  const requested: Record<string, Array<{ HostIp?: string; HostPort?: string }> | null> =
    info.HostConfig?.PortBindings ?? {};
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
