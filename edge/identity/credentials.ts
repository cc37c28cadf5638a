import { messageOf } from "../../shared/errors";
import type { Db } from "../db/client";
import type { Bindings, Principal } from "../env";
import { hostRelay } from "../host-relay/stub";
import { listHosts } from "../hosts/hosts";
import { userFeed } from "../user-feed/stub";

const HOSTS_PER_PAGE = 100;
/**
 * The credential a caller proved itself with, as a streamed command's viewer socket is
 * tagged with it: `pat:<token id>` for a personal API token, `session:<session id>` for an
 * access token or the cookie (both belong to one login session). Revoking that credential
 * closes the viewers it opened (`closeViewersOf`), since a socket outlives the request that
 * checked it.
 */
export function credentialOf(principal: Principal): string | undefined {
  if (principal.via === "api_token") return principal.tokenId ? patCredential(principal.tokenId) : undefined;
  return principal.loginSessionId ? sessionCredential(principal.loginSessionId) : undefined;
}

export const patCredential = (tokenId: string) => `pat:${tokenId}`;
export const sessionCredential = (sessionId: string) => `session:${sessionId}`;

/**
 * Closes the viewers `credential` opened on every one of the user's hosts. The credential is
 * already revoked in D1 when this runs, so a host object that cannot be reached is logged and
 * skipped rather than failing the revocation, which did happen.
 */
export async function closeViewersOf(
  env: Pick<Bindings, "HOST_RELAY" | "USER_FEED">,
  db: Db,
  userId: string,
  credential: string,
): Promise<void> {
  const feed = userFeed(env, userId)
    .closeViewers(credential)
    .catch((error) => console.error(`revocation: could not close the event feeds (${messageOf(error)})`));
  // Every host's object may hold a stream of the credential: page through them, a page at a time.
  for (let offset = 0; ; offset += HOSTS_PER_PAGE) {
    const owned = await listHosts(db, userId, { limit: HOSTS_PER_PAGE, offset });
    const closed = await Promise.allSettled(owned.map((host) => hostRelay(env, host.id).closeViewers(credential)));
    for (const [index, result] of closed.entries()) {
      if (result.status === "rejected") {
        console.error(
          `revocation: could not close the streams of host ${owned[index]?.id} (${result.reason instanceof Error ? result.reason.message : String(result.reason)})`,
        );
      }
    }
    if (owned.length < HOSTS_PER_PAGE) break;
  }
  await feed;
}
