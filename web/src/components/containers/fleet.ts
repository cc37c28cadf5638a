import type { ApiError } from "../../api/api-error";
import { asApiError } from "../../api/api-error";
import { api, call } from "../../api/client";
import { listHosts } from "../../api/lists";
import type { components } from "../../api/schema";

type Host = components["schemas"]["Host"];
type Service = components["schemas"]["Service"];

/** One container as the Containers table shows it: the service, its host, and its image when Kai made it. */
export interface FleetRow {
  host: Host;
  service: Service;
  /** From /api/flexy (the service list carries no image); null when the container is not Kai's. */
  image: string | null;
  /** True when these are the last rows seen before the host went offline. */
  stale: boolean;
}

/** A host whose containers could not be listed, with why. */
interface HostProblem {
  host: Host;
  error: ApiError;
}

export interface Fleet {
  hosts: Host[];
  rows: FleetRow[];
  problems: HostProblem[];
}

/** The services of one online host, each with its image from the host's Kai containers. */
async function rowsOf(host: Host): Promise<FleetRow[]> {
  const query = { host: host.id };
  const [services, flexy] = await Promise.all([
    call(api.GET("/api/services", { params: { query: { ...query, limit: 500 } } })),
    call(api.GET("/api/flexy", { params: { query: { ...query, limit: 100 } } })),
  ]);
  const images = new Map(flexy.data.containers.map((container) => [container.name, container.image]));
  return services.data.map((service) => ({ host, service, image: images.get(service.name) ?? null, stale: false }));
}

/**
 * Every container of every host of the user. An offline host is not asked (its agent cannot
 * answer); the rows `previous` had for it are kept and marked stale, so a host that drops
 * keeps showing what it ran, with actions off. A host that fails is reported, not fatal.
 */
export async function loadFleet(previous: Fleet | undefined): Promise<Fleet> {
  const hosts = await listHosts();
  const problems: HostProblem[] = [];
  const perHost = await Promise.all(
    hosts.map(async (host) => {
      const kept = (previous?.rows ?? [])
        .filter((row) => row.host.id === host.id)
        .map((row) => ({ ...row, host, stale: true }));
      if (!host.online) return kept;
      try {
        return await rowsOf(host);
      } catch (failure) {
        problems.push({ host, error: asApiError(failure) });
        return kept;
      }
    }),
  );
  return { hosts, rows: perHost.flat(), problems };
}
