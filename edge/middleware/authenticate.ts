import type { Context } from "hono";
import { getCookie } from "hono/cookie";
import { createMiddleware } from "hono/factory";
import { KaiError } from "../../shared/errors";
import type { AppEnv, Principal, SignedInEnv } from "../env";
import { API_TOKEN_PREFIX, authenticateApiToken } from "../identity/api-tokens";
import { SESSION_COOKIE } from "../identity/cookie";
import { verifyAccessToken } from "../identity/jwt";
import { isAllowedOrigin } from "../identity/origins";
import { findLiveSession } from "../identity/sessions";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

const unauthorized = (message: string) =>
  new KaiError("UNAUTHORIZED", message, { headers: { "WWW-Authenticate": 'Bearer realm="kai"' } });

async function principalFromBearer(c: Context<AppEnv>, token: string): Promise<Principal> {
  const db = c.var.db;
  if (token.startsWith(API_TOKEN_PREFIX)) {
    const found = await authenticateApiToken(db, token);
    if (!found) throw unauthorized("the API token is invalid, expired or revoked");
    if (found.touch) c.executionCtx.waitUntil(found.touch);
    return { userId: found.userId, via: "api_token", tokenId: found.tokenId };
  }
  const claims = await verifyAccessToken(c.get("config"), token);
  // The signature alone is not enough: a logged-out or stolen-and-revoked family ends here.
  const session = await findLiveSession(db, { loginSessionId: claims.loginSessionId });
  if (!session || session.userId !== claims.userId) throw unauthorized("the session has ended; sign in again");
  return { userId: claims.userId, via: "access_token", loginSessionId: claims.loginSessionId };
}

/**
 * Who is calling: `Authorization: Bearer` with an access token or a personal API token,
 * or else the browser session cookie. Cookie-authenticated unsafe requests must come from
 * one of Kai's own origins, which is what stops cross-site request forgery. Undefined when
 * no credentials were sent; invalid credentials throw. Resolved once per request: the rate
 * limiter asks first (to count per user) and `authenticate` gets the same answer, or the
 * same error, without a second lookup.
 */
export function resolvePrincipal(c: Context<AppEnv>): Promise<Principal | undefined> {
  let caller = c.get("caller");
  if (!caller) {
    caller = principalFromCredentials(c);
    c.set("caller", caller);
  }
  return caller;
}

async function principalFromCredentials(c: Context<AppEnv>): Promise<Principal | undefined> {
  const authorization = c.req.header("Authorization");
  if (authorization !== undefined) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!match?.[1]) throw unauthorized("use the header `Authorization: Bearer <token>`");
    return principalFromBearer(c, match[1]);
  }
  const cookie = getCookie(c, SESSION_COOKIE, "host");
  if (!cookie) return undefined;
  // A WebSocket handshake is a GET, but it opens a channel that acts for the user: a page on
  // another origin must not ride the cookie into it (cross-site WebSocket hijacking).
  const upgrade = c.req.header("Upgrade")?.toLowerCase() === "websocket";
  if ((upgrade || !SAFE_METHODS.has(c.req.method)) && !isAllowedOrigin(c, c.req.header("Origin"))) {
    throw new KaiError("PERMISSION_DENIED", "a cookie-authenticated request must come from Kai's own origin");
  }
  const session = await findLiveSession(c.var.db, { cookieSecret: cookie });
  if (!session) throw unauthorized("the session has ended; sign in again");
  return { userId: session.userId, via: "cookie", loginSessionId: session.loginSessionId };
}

/** Requires a signed-in caller (see `resolvePrincipal`). */
export const authenticate = createMiddleware<SignedInEnv>(async (c, next) => {
  // The same context; its type already promises the principal this sets.
  const principal = await resolvePrincipal(c as unknown as Context<AppEnv>);
  if (!principal) throw unauthorized("sign in first: send `Authorization: Bearer <token>`");
  c.set("principal", principal);
  return next();
});
