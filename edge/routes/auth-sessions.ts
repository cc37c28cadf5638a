import { createRoute } from "@hono/zod-openapi";
import { eq } from "drizzle-orm";
import type { Context } from "hono";
import { getCookie } from "hono/cookie";
import { KaiError } from "../../shared/errors";
import { loginBody, refreshBody, tokenPair } from "../../shared/schemas/identity";
import { users } from "../db/schema";
import type { AppEnv } from "../env";
import { jsonBody, problems } from "../http/openapi";
import { declareRoutes } from "../http/route-group";
import { clearSessionCookie, SESSION_COOKIE, setSessionCookie } from "../identity/cookie";
import { closeViewersOf, sessionCredential } from "../identity/credentials";
import { isAllowedOrigin } from "../identity/origins";
import { dummyPasswordHash, verifyPassword } from "../identity/passwords";
import {
  endSessionByCookie,
  endSessionByRefreshToken,
  type RevokedSession,
  rotateRefreshToken,
  startSession,
} from "../identity/sessions";
import { consume, LOGIN_PER_ACCOUNT } from "../middleware/rate-limit";

/** Sign in, refresh and sign out: `/api/v1/auth/sessions`. */
export const authSessions = declareRoutes("public");

/** A session that ends takes its open streams (viewer sockets opened with its access token or cookie) with it. */
const closeSessionViewers = (c: Context<AppEnv>, revoked: RevokedSession) =>
  closeViewersOf(c.env, c.var.db, revoked.userId, sessionCredential(revoked.sessionId));

const signedInResponse = { description: "Signed in", content: { "application/json": { schema: tokenPair } } };

authSessions.openapi(
  createRoute({
    method: "post",
    path: "/",
    tags: ["auth"],
    summary: "Sign in with email and password",
    request: { body: jsonBody(loginBody) },
    responses: { 200: signedInResponse, ...problems(401, 422, 429) },
  }),
  async (c) => {
    const { email, password } = c.req.valid("json");
    await consume(c, LOGIN_PER_ACCOUNT, email);
    const db = c.var.db;
    const config = c.var.config;
    const [user] = await db.select().from(users).where(eq(users.email, email));
    // Unknown emails are checked against a dummy hash: both failures cost one PBKDF2 run.
    const stored = user?.passwordHash ?? (await dummyPasswordHash(config.PASSWORD_PEPPER));
    const matches = await verifyPassword(password, stored, config.PASSWORD_PEPPER);
    if (!user || !matches) throw new KaiError("UNAUTHORIZED", "wrong email or password");
    const session = await startSession(db, config, user);
    setSessionCookie(c, session.cookieSecret);
    return c.json(session.tokens, 200);
  },
);

authSessions.openapi(
  createRoute({
    method: "post",
    path: "/refresh",
    tags: ["auth"],
    summary: "Exchange a refresh token for a new pair (the old one stops working)",
    request: { body: jsonBody(refreshBody) },
    responses: { 200: signedInResponse, ...problems(401, 422, 429) },
  }),
  async (c) => {
    const { refresh_token } = c.req.valid("json");
    const tokens = await rotateRefreshToken(c.var.db, c.var.config, refresh_token, (revoked) =>
      closeSessionViewers(c, revoked),
    );
    return c.json(tokens, 200);
  },
);

authSessions.openapi(
  createRoute({
    method: "delete",
    path: "/",
    tags: ["auth"],
    summary: "Sign out: ends the session, and closes the streams it opened",
    description:
      "Ends the session the refresh token in the body belongs to and, when the request carries the " +
      "`__Host-kai_session` cookie, the cookie's session too: a browser page signs out with no body " +
      "(a cookie-authenticated sign-out must come from Kai's own origin). Unknown or ended sessions " +
      "are ignored; the answer is 204 either way and clears the cookie.",
    request: { body: { ...jsonBody(refreshBody), required: false } },
    responses: { 204: { description: "Signed out" }, ...problems(403, 422, 429) },
  }),
  async (c) => {
    const refreshToken = c.req.valid("json")?.refresh_token;
    const cookie = getCookie(c, SESSION_COOKIE, "host");
    if (cookie && !isAllowedOrigin(c, c.req.header("Origin"))) {
      throw new KaiError("PERMISSION_DENIED", "a cookie-authenticated request must come from Kai's own origin");
    }
    const ended = [
      refreshToken ? await endSessionByRefreshToken(c.var.db, refreshToken) : undefined,
      cookie ? await endSessionByCookie(c.var.db, cookie) : undefined,
    ];
    for (const revoked of ended) if (revoked) await closeSessionViewers(c, revoked);
    clearSessionCookie(c);
    return c.body(null, 204);
  },
);
