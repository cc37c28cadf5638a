import { createMiddleware } from "hono/factory";
import { KaiError } from "../../shared/errors";
import { type Db, database } from "../db/client";
import type { AppEnv } from "../env";
import { type HostRow, findOwnHost, listHosts } from "../hosts/hosts";

export const HOST_HEADER = "X-Kai-Host";

/**
 * The host a request means: `wanted` (an id or a name, from the `X-Kai-Host` header or the
 * `host` query parameter), or the only host when the user has exactly one. Another user's
 * host is NOT_FOUND; zero or several hosts without a choice is a 400 naming the choices.
 */
export async function chooseHost(db: Db, userId: string, wanted: string | undefined): Promise<HostRow> {
  if (wanted) return findOwnHost(db, userId, wanted);
  const own = await listHosts(db, userId);
  if (own.length === 1 && own[0]) return own[0];
  if (own.length === 0) {
    throw new KaiError("BAD_REQUEST", "you have no host yet: enroll one with POST /api/hosts and start kai-agent on it");
  }
  throw new KaiError("BAD_REQUEST", `you have ${own.length} hosts: choose one with the ${HOST_HEADER} header or the host query parameter`, {
    details: { hosts: own.map((row) => ({ id: row.id, name: row.name })) },
  });
}

/** Sets `host` for host-bound routes; runs after `authenticate`. */
export const selectHost = createMiddleware<AppEnv>(async (c, next) => {
  const wanted = c.req.header(HOST_HEADER) ?? c.req.query("host");
  c.set("host", await chooseHost(database(c.env.DB), c.get("principal").userId, wanted));
  return next();
});
