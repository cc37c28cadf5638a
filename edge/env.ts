import type { ApiSurface } from "../shared/errors";
import type { Config } from "./config";
import type { HostSession } from "./host-session/host-session";
import type { HostRow } from "./hosts/hosts";
import type { RateLimiter } from "./rate-limiter";
import type { WebhookDispatcher } from "./webhooks/dispatcher";

/** Bindings declared in wrangler.toml, plus secrets set with `wrangler secret put`. */
export interface Bindings {
  DB: D1Database;
  RATE_LIMITER: DurableObjectNamespace<RateLimiter>;
  HOST_SESSION: DurableObjectNamespace<HostSession>;
  AGENT_TIMEOUT_MS?: string;
  API_RATE_LIMIT_PER_HOUR?: string;
  TRUSTED_CLIENT_IP_HEADER?: string;
  WEBHOOKS_ALLOW_PRIVATE?: string;
  WEBHOOK_RETRY_BASE_MS?: string;
  WEBHOOK_DISPATCHER: DurableObjectNamespace<WebhookDispatcher>;
  ENVIRONMENT?: string;
  JWT_SECRET?: string;
  JWT_KID?: string;
  PASSWORD_PEPPER?: string;
  ADMIN_EMAILS?: string;
  PUBLIC_ORIGIN?: string;
  ALLOWED_ORIGINS?: string;
  MAIL_API_URL?: string;
  MAIL_API_KEY?: string;
  MAIL_FROM?: string;
}

/** Who a request acts for, and how it proved it. */
export interface Principal {
  userId: string;
  via: "access_token" | "api_token" | "cookie";
  /** The login session (refresh family) behind an access token or cookie. */
  sessionId?: string;
  /** The personal API token behind an `api_token` principal (its id, never its secret). */
  tokenId?: string;
}

export interface Variables {
  config: Config;
  surface: ApiSurface;
  principal: Principal;
  /** Who the request's credentials name, resolved once (`resolvePrincipal`) for the rate limiter and `authenticate`. */
  caller?: Promise<Principal | undefined>;
  /** The host a host-bound route acts on, chosen by `selectHost`. */
  host: HostRow;
  /** The workspace a Workspace Runtime route acts on, chosen by `resolveWorkspace`. */
  workspace: { id: string; name: string; root: string };
}

/** The one environment type every route, middleware and helper is written against. */
export interface AppEnv {
  Bindings: Bindings;
  Variables: Variables;
}
