import type { Bindings } from "../env";

/** The host relay of one host: one Durable Object per host id, addressed by name. */
export function hostRelay(env: Pick<Bindings, "HOST_RELAY">, hostId: string) {
  return env.HOST_RELAY.get(env.HOST_RELAY.idFromName(hostId));
}
