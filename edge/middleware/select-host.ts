import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { KaiError } from "../../shared/errors";
import { hostIdParam } from "../../shared/schemas/hosts";
import type { Db } from "../db/client";
import type { HostEnv, SignedInEnv } from "../env";
import { findOwnHost, type HostRow, listHosts } from "../hosts/hosts";
import { throwValidationProblem } from "../http/errors";
import { credentialOf } from "../identity/credentials";
import type { HostAgent } from "../relay/relay";

export const HOST_HEADER = "X-Kai-Host";
export const HOST_QUERY = "host";
/** How many hosts a request without a choice is told about (GET /api/hosts pages the rest). */
const CHOICES_SHOWN = 20;

/**
 * The host a request means: `wanted` (an id or a name, from the `X-Kai-Host` header or the
 * `host` query parameter), or the only host when the user has exactly one. Another user's
 * host is NOT_FOUND; zero or several hosts without a choice is a 400 naming the choices.
 */
export async function chooseHost(db: Db, userId: string, wanted: string | undefined): Promise<HostRow> {
  if (wanted) return findOwnHost(db, userId, wanted);
  // Enough rows to tell none, one and several apart, and to name a page of choices.
  const own = await listHosts(db, userId, { limit: CHOICES_SHOWN + 1 });
  if (own.length === 1 && own[0]) return own[0];
  if (own.length === 0) {
    throw new KaiError(
      "BAD_REQUEST",
      "you have no host yet: enroll one with POST /api/hosts and start kai-agent on it",
    );
  }
  throw new KaiError(
    "BAD_REQUEST",
    `you have ${own.length > CHOICES_SHOWN ? `more than ${CHOICES_SHOWN}` : own.length} hosts: choose one with the ${HOST_HEADER} header or the host query parameter`,
    {
      details: { hosts: own.slice(0, CHOICES_SHOWN).map((row) => ({ id: row.id, name: row.name })) },
    },
  );
}

/** The host `X-Kai-Host` or `?host` names (see `chooseHost`). */
export const wantedHost = (c: Context) => c.req.header(HOST_HEADER) ?? c.req.query(HOST_QUERY);

/** The handle to relay to `host` on behalf of the request's signed-in user. */
export function agentOf(c: Context<SignedInEnv>, host: HostRow): HostAgent;
export function agentOf(c: Context<HostEnv>, host: HostRow): HostAgent;
export function agentOf(c: Context<SignedInEnv> | Context<HostEnv>, host: HostRow): HostAgent {
  const principal = c.var.principal;
  return {
    env: c.env,
    hostId: host.id,
    userId: principal.userId,
    credential: credentialOf(principal),
    timeoutMs: c.var.config.AGENT_TIMEOUT_MS,
  };
}

/** Binds a chosen host: `host` for reading its row, `agent` for relaying to it. */
export function bindHost(c: Context<HostEnv>, host: HostRow): void {
  c.set("host", host);
  c.set("agent", agentOf(c, host));
}

/** Host-bound routes that choose by header or query; runs after `authenticate`. */
export const selectHost = createMiddleware<HostEnv>(async (c, next) => {
  bindHost(c, await chooseHost(c.var.db, c.var.principal.userId, wantedHost(c)));
  return next();
});

/**
 * Host-bound routes under `/{id}`, the host's own id. Runs before the route's validators,
 * so it checks the id the same way they would (a malformed one is 400 before any lookup).
 */
export const hostInPath = createMiddleware<HostEnv>(async (c, next) => {
  const parsed = hostIdParam.safeParse({ id: c.req.param("id") });
  if (!parsed.success) throwValidationProblem(parsed.error, "param");
  bindHost(c, await findOwnHost(c.var.db, c.var.principal.userId, parsed.data.id));
  return next();
});
