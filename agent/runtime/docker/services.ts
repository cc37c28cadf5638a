import type Docker from "dockerode";
import type { Service, ServiceDetails } from "../../../shared/schemas/services";
import { engineStatus, stripSlash } from "./containers";
import { type StatsSample, uptimeSeconds } from "./stats";

/**
 * Containers as the AIKit dashboard API shows services: any container of the engine,
 * Kai's or not. Every Docker detail is turned into an API field here and nowhere else.
 */

const IMAGE_LABELS = {
  version: "org.opencontainers.image.version",
  description: "org.opencontainers.image.description",
} as const;

type ServiceStatus = Service["status"];
type ServiceHealth = Service["health"];

/** Docker's states as service statuses: the engine's own words, `dead` included (an operator should see it). */
export function toServiceStatus(state: string): ServiceStatus {
  return engineStatus(state);
}

/** The health check's verdict, or `none` when the container has no health check. */
function toServiceHealth(state: Docker.ContainerInspectInfo["State"]): ServiceHealth {
  const status = state.Health?.Status;
  return status === "healthy" || status === "unhealthy" || status === "starting" ? status : "none";
}

/**
 * The tag of an image reference: `registry:5000/team/app:1.2@sha256:…` → `1.2`. Undefined
 * for an untagged reference or an image id.
 */
export function imageTag(reference: string): string | undefined {
  if (isImageId(reference)) return undefined;
  const withoutDigest = reference.split("@")[0] ?? "";
  const colon = withoutDigest.lastIndexOf(":");
  // A colon before the last slash belongs to a registry port, not a tag.
  return colon > withoutDigest.lastIndexOf("/") ? withoutDigest.slice(colon + 1) : undefined;
}

/** `sha256:…` or a bare hex id: a container created from an image id follows no tag. */
export function isImageId(reference: string): boolean {
  return /^(sha256:)?[a-f0-9]{12,64}$/.test(reference);
}

/**
 * A service's version: the image's `org.opencontainers.image.version` label when it has
 * one, else the image tag, except `latest`, which names no version, so null; null too for
 * an untagged reference or an image id.
 */
export function serviceVersion(labels: Record<string, string> | null | undefined, reference: string): string | null {
  const label = labels?.[IMAGE_LABELS.version]?.trim();
  if (label) return label;
  const tag = imageTag(reference);
  return tag && tag !== "latest" ? tag : null;
}

export function toService(
  info: Docker.ContainerInspectInfo,
  sample: StatsSample | undefined,
  now = Date.now(),
): Service {
  const name = stripSlash(info.Name);
  const labels = info.Config?.Labels ?? {};
  const port = ports(info).find((mapping) => mapping.external !== null)?.external ?? null;
  return {
    id: name,
    name,
    containerId: info.Id.slice(0, 12),
    status: toServiceStatus(info.State.Status),
    health: toServiceHealth(info.State),
    version: serviceVersion(labels, info.Config?.Image ?? ""),
    description: labels[IMAGE_LABELS.description]?.trim() || null,
    url: port === null ? null : `http://localhost:${port}`,
    port,
    stats: {
      cpu: sample?.cpu ?? 0,
      memory: sample?.memory ?? 0,
      uptime: uptimeSeconds(info.State, now),
      restartCount: info.RestartCount ?? 0,
    },
  };
}

/**
 * The service with its details. Volumes name their host side: the host path of a bind, the
 * volume's name for a named or anonymous volume, `tmpfs` for a tmpfs.
 */
export function toServiceDetails(
  info: Docker.ContainerInspectInfo,
  sample: StatsSample | undefined,
  now = Date.now(),
): ServiceDetails {
  return {
    ...toService(info, sample, now),
    details: {
      image: info.Config?.Image ?? info.Image,
      created: isoTime(info.Created),
      ports: ports(info),
      volumes: (info.Mounts ?? []).map((mount) => ({
        source:
          mount.Type === "volume" ? (mount.Name ?? mount.Source) : mount.Type === "tmpfs" ? "tmpfs" : mount.Source,
        destination: mount.Destination,
      })),
      env: info.Config?.Env ?? [],
    },
  };
}

type PortMapping = ServiceDetails["details"]["ports"][number];

/**
 * Container ports, lowest first, each with the host port it is published on, or null when
 * it is only exposed (or published on a random port the engine has not picked yet because
 * the container is not running). IPv4 and IPv6 bindings of one port count once.
 */
export function ports(info: Docker.ContainerInspectInfo): PortMapping[] {
  const live: Record<string, Array<{ HostPort?: string }> | null> = info.NetworkSettings?.Ports ?? {};
  const requested: Record<string, Array<{ HostPort?: string }> | null> = info.HostConfig?.PortBindings ?? {};
  const exposed = Object.keys(info.Config?.ExposedPorts ?? {});
  const source = info.State.Running ? live : requested;
  const keys = [...new Set([...exposed, ...Object.keys(source)])];
  const found: PortMapping[] = [];
  const seen = new Set<string>();
  for (const key of keys) {
    const internal = Number.parseInt(key, 10);
    if (!Number.isInteger(internal)) continue;
    const hostPorts = (source[key] ?? [])
      .map((binding) => Number.parseInt(binding.HostPort ?? "", 10))
      .filter((port) => port > 0);
    for (const external of hostPorts.length > 0 ? hostPorts : [null]) {
      const id = `${internal}:${external}`;
      if (seen.has(id)) continue;
      seen.add(id);
      found.push({ internal, external });
    }
  }
  return found.sort((a, b) => a.internal - b.internal || (a.external ?? 0) - (b.external ?? 0));
}

/** Docker's nanosecond time as an ISO string with milliseconds. */
function isoTime(value: string): string {
  const millis = Date.parse(value);
  return Number.isNaN(millis) ? value : new Date(millis).toISOString();
}
