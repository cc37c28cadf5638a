import { and, eq, gt, isNull } from "drizzle-orm";
import { KaiError } from "../../shared/errors";
import type { TokenPair } from "../../shared/schemas/identity";
import type { Config } from "../config";
import type { Db } from "../db/client";
import { authSessions, refreshTokens, users } from "../db/schema";
import { randomSecret, sha256Hex } from "./crypto";
import { ACCESS_TOKEN_SECONDS, signAccessToken } from "./jwt";

export const SESSION_DAYS = 30;
const DAY_MS = 86_400_000;
const REFRESH_PREFIX = "kai_rt_";
const COOKIE_PREFIX = "kai_cs_";

const invalidRefresh = () => new KaiError("UNAUTHORIZED", "the refresh token is invalid or has expired; sign in again");

export interface IssuedSession {
  tokens: TokenPair;
  /** The browser cookie's secret; only its hash is stored. */
  cookieSecret: string;
}

async function issueRefreshToken(db: Db, sessionId: string, now: number): Promise<string> {
  const refreshToken = randomSecret(REFRESH_PREFIX);
  await db.insert(refreshTokens).values({
    tokenHash: await sha256Hex(refreshToken),
    sessionId,
    expiresAt: new Date(now + SESSION_DAYS * DAY_MS),
  });
  return refreshToken;
}

async function tokenPair(config: Config, user: { id: string; email: string }, sessionId: string, refreshToken: string) {
  return {
    access_token: await signAccessToken(config, { userId: user.id, loginSessionId: sessionId }),
    refresh_token: refreshToken,
    expires_in: ACCESS_TOKEN_SECONDS,
    token_type: "bearer" as const,
    user: { id: user.id, email: user.email },
  };
}

/** Starts a login: a new refresh family, its first refresh token, and a cookie secret. */
export async function startSession(
  db: Db,
  config: Config,
  user: { id: string; email: string },
): Promise<IssuedSession> {
  const now = Date.now();
  const sessionId = crypto.randomUUID();
  const cookieSecret = randomSecret(COOKIE_PREFIX);
  await db.insert(authSessions).values({
    id: sessionId,
    userId: user.id,
    cookieHash: await sha256Hex(cookieSecret),
    expiresAt: new Date(now + SESSION_DAYS * DAY_MS),
  });
  const refreshToken = await issueRefreshToken(db, sessionId, now);
  return { tokens: await tokenPair(config, user, sessionId, refreshToken), cookieSecret };
}

/** A login session that was just revoked, so its caller can close the streams it opened. */
export interface RevokedSession {
  sessionId: string;
  userId: string;
}

/** Undefined when the session was already revoked (its streams were closed then). */
async function revokeSession(db: Db, sessionId: string, reason: string): Promise<RevokedSession | undefined> {
  const [row] = await db
    .update(authSessions)
    .set({ revokedAt: new Date(), revokedReason: reason })
    .where(and(eq(authSessions.id, sessionId), isNull(authSessions.revokedAt)))
    .returning({ sessionId: authSessions.id, userId: authSessions.userId });
  return row;
}

/**
 * Exchanges a refresh token for a new pair. The token is marked rotated in the same
 * conditional UPDATE that checks it, so two concurrent uses cannot both succeed; a token
 * that was already rotated is proof of theft and revokes its whole family, after which
 * `onRevoked` runs (to close the streams the family opened) before the refusal.
 */
export async function rotateRefreshToken(
  db: Db,
  config: Config,
  refreshToken: string,
  onRevoked: (revoked: RevokedSession) => Promise<void> = async () => undefined,
): Promise<TokenPair> {
  const now = Date.now();
  const tokenHash = await sha256Hex(refreshToken);
  const [claimed] = await db
    .update(refreshTokens)
    .set({ rotatedAt: new Date(now) })
    .where(
      and(
        eq(refreshTokens.tokenHash, tokenHash),
        isNull(refreshTokens.rotatedAt),
        gt(refreshTokens.expiresAt, new Date(now)),
      ),
    )
    .returning({ sessionId: refreshTokens.sessionId });

  if (!claimed) {
    const [known] = await db
      .select({ sessionId: refreshTokens.sessionId, rotatedAt: refreshTokens.rotatedAt })
      .from(refreshTokens)
      .where(eq(refreshTokens.tokenHash, tokenHash));
    if (known?.rotatedAt) {
      console.warn(`kai: refresh token reused; revoking session ${known.sessionId}`);
      const revoked = await revokeSession(db, known.sessionId, "refresh token reused");
      if (revoked) await onRevoked(revoked);
    }
    throw invalidRefresh();
  }

  const [row] = await db
    .select({ id: users.id, email: users.email })
    .from(authSessions)
    .innerJoin(users, eq(users.id, authSessions.userId))
    .where(
      and(
        eq(authSessions.id, claimed.sessionId),
        isNull(authSessions.revokedAt),
        gt(authSessions.expiresAt, new Date(now)),
      ),
    );
  if (!row) throw invalidRefresh();

  const next = await issueRefreshToken(db, claimed.sessionId, now);
  return tokenPair(config, row, claimed.sessionId, next);
}

/**
 * Logs out the family a refresh token belongs to. Unknown tokens are ignored (idempotent).
 * Returns the session when this call revoked it.
 */
export async function endSessionByRefreshToken(db: Db, refreshToken: string): Promise<RevokedSession | undefined> {
  const [known] = await db
    .select({ sessionId: refreshTokens.sessionId })
    .from(refreshTokens)
    .where(eq(refreshTokens.tokenHash, await sha256Hex(refreshToken)));
  return known ? revokeSession(db, known.sessionId, "logged out") : undefined;
}

/** Logs out the session a browser's cookie belongs to; an unknown or ended one is ignored (idempotent). */
export async function endSessionByCookie(db: Db, cookieSecret: string): Promise<RevokedSession | undefined> {
  const live = await findLiveSession(db, { cookieSecret });
  return live ? revokeSession(db, live.loginSessionId, "logged out") : undefined;
}

/** The live login session a JWT's `sid` or a cookie names, with its user; undefined when revoked or expired. */
export async function findLiveSession(db: Db, by: { loginSessionId: string } | { cookieSecret: string }) {
  const condition =
    "loginSessionId" in by
      ? eq(authSessions.id, by.loginSessionId)
      : eq(authSessions.cookieHash, await sha256Hex(by.cookieSecret));
  const [row] = await db
    .select({ loginSessionId: authSessions.id, userId: authSessions.userId })
    .from(authSessions)
    .where(and(condition, isNull(authSessions.revokedAt), gt(authSessions.expiresAt, new Date())));
  return row;
}
