import type { Bindings } from "../env";

/** The live event feed of one user: one Durable Object per user id, addressed by name. */
export function userFeed(env: Pick<Bindings, "USER_FEED">, userId: string) {
  return env.USER_FEED.get(env.USER_FEED.idFromName(userId));
}
