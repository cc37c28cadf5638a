import type { Config, Settings } from "./config";
import type { Db } from "./db/client";
import type { HostRow } from "./hosts/hosts";
import type { HostAgent } from "./relay/relay";

/**
 * What the Worker is given: the bindings and vars `wrangler types` reads from wrangler.toml
 * (edge/worker-configuration.d.ts, regenerated with `npm run types`), plus every setting
 * config.ts reads, whether a var or a secret set with `wrangler secret put`. The settings are
 * typed from config.ts's schema rather than listed by hand, so the two cannot drift; all are
 * optional strings here, because config.ts is where absence and defaults are decided.
 */
export type Bindings = Cloudflare.Env & Settings;

/** Who a request acts for, and how it proved it. */
export interface Principal {
  userId: string;
  via: "access_token" | "api_token" | "cookie";
  /** The login session (refresh family) behind an access token or cookie. */
  loginSessionId?: string;
  /** The personal API token behind an `api_token` principal (its id, never its secret). */
  tokenId?: string;
}

/** Set for every request, before any route runs (edge/app.ts). */
interface Variables {
  config: Config;
  /** The request's database handle. */
  db: Db;
  /** Who the request's credentials name, resolved once (`resolvePrincipal`) for the rate limiter and `authenticate`. */
  caller?: Promise<Principal | undefined>;
}

/** The environment of every request, and of routes declared public. */
export interface AppEnv {
  Bindings: Bindings;
  Variables: Variables;
}

/** Routes declared signed-in: `authenticate` has run. */
export interface SignedInEnv extends AppEnv {
  Variables: Variables & { principal: Principal };
}

/** Routes declared host-bound: the host is chosen, and `agent` is the only way to reach it. */
export interface HostEnv extends AppEnv {
  Variables: SignedInEnv["Variables"] & { host: HostRow; agent: HostAgent };
}

/**
 * Routes declared agent-bound: a kai-agent's own requests, by its host's agent token
 * (`authenticateAgent`). The host is the token's; `agent` relays to its connection.
 */
export interface AgentTokenEnv extends AppEnv {
  Variables: Variables & { host: HostRow; agent: HostAgent };
}

/** A workspace of the Workspace Runtime API: a catalog item, which also chooses the host. */
export interface Workspace {
  id: string;
  name: string;
  /** The workspace's directory on its host. */
  root: string;
}

/** Routes declared workspace-bound: a host-bound route whose host comes from the workspace. */
export interface WorkspaceEnv extends AppEnv {
  Variables: HostEnv["Variables"] & { workspace: Workspace };
}
