import { createMiddleware } from "hono/factory";
import { KaiError } from "../../shared/errors";
import { database } from "../db/client";
import type { AppEnv } from "../env";
import { findOwnHost, listHosts } from "../hosts/hosts";

export const HOST_HEADER = "X-Kai-Host";

/**
 * Picks the host a host-bound route acts on: the `X-Kai-Host` header or the `host` query
 * parameter (an id or a name), or the only host when the user has exactly one. Runs after
 * `authenticate`; another user's host is NOT_FOUND.
 */
export const selectHost = createMiddleware<AppEnv>(async (c, next) => {
  const db = database(c.env.DB);
  const userId = c.get("principal").userId;
  const wanted = c.req.header(HOST_HEADER) ?? c.req.query("host");
  if (wanted) {
    c.set("host", await findOwnHost(db, userId, wanted));
    return next();
  }
  const own = await listHosts(db, userId);
  if (own.length === 1 && own[0]) {
    c.set("host", own[0]);
    return next();
  }
  if (own.length === 0) {
    throw new KaiError("BAD_REQUEST", "you have no host yet: enroll one with POST /api/hosts and start kai-agent on it");
  }
  throw new KaiError("BAD_REQUEST", `you have ${own.length} hosts: choose one with the ${HOST_HEADER} header or the host query parameter`, {
    details: { hosts: own.map((row) => ({ id: row.id, name: row.name })) },
  });
});
