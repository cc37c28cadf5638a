import { isDeepStrictEqual } from "node:util";
import type Docker from "dockerode";
import { stripSlash } from "./containers";

/**
 * What it takes to make a container again on a newer image. A container's inspected
 * config is its image's config with the user's choices laid over it; only the user's
 * choices may be carried over, or the new image's own command, environment defaults and
 * labels (its version label among them) would be masked by the old image's. So a value
 * equal to the old image's is left out and the new image supplies its own, as
 * `docker compose up` and watchtower do.
 */

/** The parts of `docker inspect <container>` a re-creation reads. */
export interface InspectedContainer {
  Id: string;
  Name: string;
  Config: {
    Hostname?: string;
    Domainname?: string;
    User?: string;
    Env?: string[] | null;
    Cmd?: string[] | null;
    Entrypoint?: string | string[] | null;
    WorkingDir?: string;
    Labels?: Record<string, string> | null;
    ExposedPorts?: Record<string, object> | null;
    Volumes?: Record<string, object> | null;
    Tty?: boolean;
    OpenStdin?: boolean;
    StdinOnce?: boolean;
    StopSignal?: string;
    StopTimeout?: number;
    Healthcheck?: Docker.HealthConfig;
  };
  HostConfig: Docker.HostConfig;
  Mounts?: Array<{ Type: string; Name?: string; Source: string; Destination: string; RW: boolean }> | null;
  NetworkSettings?: {
    Networks?: Record<string, { Aliases?: string[] | null; IPAMConfig?: Docker.IPAMConfig | null }> | null;
  } | null;
}

/** The parts of `docker image inspect` that are defaults of every container made from it. */
export interface ImageDefaults {
  Env?: string[] | null;
  Cmd?: string[] | null;
  Entrypoint?: string | string[] | null;
  WorkingDir?: string;
  User?: string;
  Labels?: Record<string, string> | null;
  ExposedPorts?: Record<string, object> | null;
  Volumes?: Record<string, object> | null;
  StopSignal?: string;
  Healthcheck?: Docker.HealthConfig;
}

/** Networks that every container is on by default; they need no endpoint config. */
const DEFAULT_NETWORKS = new Set(["default", "bridge", "host", "none"]);

/**
 * Create options for a container like `info` on `image`. `oldImage` is the config of the
 * image `info` was made from; without it (the image is gone) every value is carried.
 */
export function recreateOptions(
  info: InspectedContainer,
  oldImage: ImageDefaults | undefined,
  image: string,
): Docker.ContainerCreateOptions {
  const config = info.Config;
  const base = oldImage ?? {};
  const own = <T>(value: T, fromImage: unknown): T | undefined =>
    oldImage && isDeepStrictEqual(value ?? null, fromImage ?? null) ? undefined : value;
  const imageEnv = new Set(base.Env ?? []);
  const imageLabels = base.Labels ?? {};
  const primary = info.HostConfig.NetworkMode ?? "default";
  const endpoint = networkEndpoint(info, primary);
  return {
    name: stripSlash(info.Name),
    Image: image,
    Env: (config.Env ?? []).filter((entry) => !imageEnv.has(entry)),
    Labels: Object.fromEntries(
      Object.entries(config.Labels ?? {}).filter(([key, value]) => imageLabels[key] !== value),
    ),
    Cmd: own(config.Cmd ?? undefined, base.Cmd),
    Entrypoint: own(config.Entrypoint ?? undefined, base.Entrypoint),
    WorkingDir: own(config.WorkingDir || undefined, base.WorkingDir || undefined),
    User: own(config.User || undefined, base.User || undefined),
    StopSignal: own(config.StopSignal || undefined, base.StopSignal || undefined),
    StopTimeout: config.StopTimeout,
    Healthcheck: own(config.Healthcheck, base.Healthcheck),
    // Docker makes the hostname the container's short id unless one was given.
    Hostname: config.Hostname && config.Hostname !== info.Id.slice(0, 12) ? config.Hostname : undefined,
    Domainname: config.Domainname || undefined,
    Tty: config.Tty,
    OpenStdin: config.OpenStdin,
    StdinOnce: config.StdinOnce,
    // All of them: a published port must stay exposed even if the new image stops exposing it.
    ExposedPorts: config.ExposedPorts ?? undefined,
    Volumes: withoutKeys(config.Volumes, base.Volumes),
    HostConfig: { ...info.HostConfig, Mounts: [...(info.HostConfig.Mounts ?? []), ...anonymousVolumes(info)] },
    ...(endpoint ? { NetworkingConfig: { EndpointsConfig: { [primary]: endpoint } } } : {}),
  };
}

/**
 * The networks beyond the primary one, with their endpoint settings: the engine (API
 * 1.41) takes only one network at create, the rest are connected afterwards.
 */
export function extraNetworks(info: InspectedContainer): Array<[string, Docker.EndpointSettings]> {
  const primary = info.HostConfig.NetworkMode ?? "default";
  return Object.keys(info.NetworkSettings?.Networks ?? {})
    .filter((name) => name !== primary && !DEFAULT_NETWORKS.has(name))
    .map((name) => [name, networkEndpoint(info, name) ?? {}]);
}

/** Aliases and fixed addresses on a user-defined network, without the old id Docker added. */
function networkEndpoint(info: InspectedContainer, network: string): Docker.EndpointSettings | undefined {
  if (DEFAULT_NETWORKS.has(network) || network.startsWith("container:")) return undefined;
  const settings = info.NetworkSettings?.Networks?.[network];
  const aliases = (settings?.Aliases ?? []).filter((alias) => alias !== info.Id.slice(0, 12));
  return {
    ...(aliases.length > 0 ? { Aliases: aliases } : {}),
    ...(settings?.IPAMConfig ? { IPAMConfig: settings.IPAMConfig } : {}),
  };
}

/**
 * Volumes the container got without naming them (an image's VOLUME, `-v /path`). Named
 * ones travel in Binds and Mounts already; these are mounted again by name so their data
 * stays with the service instead of starting from an empty volume.
 */
function anonymousVolumes(info: InspectedContainer): Docker.MountSettings[] {
  const declared = new Set([
    ...(info.HostConfig.Binds ?? []).map((bind) => bind.split(":")[1]),
    ...(info.HostConfig.Mounts ?? []).map((mount) => mount.Target),
  ]);
  return (info.Mounts ?? [])
    .filter((mount) => mount.Type === "volume" && mount.Name && !declared.has(mount.Destination))
    .map((mount) => ({ Type: "volume", Source: mount.Name ?? "", Target: mount.Destination, ReadOnly: !mount.RW }));
}

function withoutKeys(
  values: Record<string, object> | null | undefined,
  remove: Record<string, object> | null | undefined,
): Record<string, object> | undefined {
  const kept = Object.entries(values ?? {}).filter(([key]) => !Object.hasOwn(remove ?? {}, key));
  return kept.length > 0 ? Object.fromEntries(kept) : undefined;
}
