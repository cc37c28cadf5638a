import { and, desc, eq, isNull } from "drizzle-orm";
import { KaiError } from "../../shared/errors";
import type { ApiToken } from "../../shared/schemas/tokens";
import type { Db } from "../db/client";
import { apiTokens } from "../db/schema";
import type { Page } from "../http/paging";
import { randomSecret, sha256Hex } from "./crypto";

export const API_TOKEN_PREFIX = "kai_pat_";
const DAY_MS = 86_400_000;
/** `last_used_at` is written at most this often, so a busy token does not write on every request. */
const LAST_USED_GRANULARITY_MS = 60_000;

type ApiTokenRow = typeof apiTokens.$inferSelect;

function toApiToken(row: ApiTokenRow): ApiToken {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    createdAt: row.createdAt.toISOString(),
    expiresAt: row.expiresAt?.toISOString() ?? null,
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
  };
}

export async function createApiToken(
  db: Db,
  userId: string,
  input: { name: string; expiresInDays?: number | undefined },
) {
  const secret = randomSecret(API_TOKEN_PREFIX);
  const [row] = await db
    .insert(apiTokens)
    .values({
      id: crypto.randomUUID(),
      userId,
      name: input.name,
      prefix: secret.slice(0, API_TOKEN_PREFIX.length + 6),
      tokenHash: await sha256Hex(secret),
      expiresAt: input.expiresInDays ? new Date(Date.now() + input.expiresInDays * DAY_MS) : null,
      createdAt: new Date(),
    })
    .returning();
  if (!row) throw new KaiError("INTERNAL_ERROR", "the token could not be stored");
  return { ...toApiToken(row), token: secret };
}

/** A page of the user's active tokens, newest first. */
export async function listApiTokens(db: Db, userId: string, page: Page): Promise<ApiToken[]> {
  const rows = await db
    .select()
    .from(apiTokens)
    .where(and(eq(apiTokens.userId, userId), isNull(apiTokens.revokedAt)))
    .orderBy(desc(apiTokens.createdAt), desc(apiTokens.id))
    .limit(page.limit)
    .offset(page.offset);
  return rows.map(toApiToken);
}

/** Revokes one of the user's own tokens; anyone else's (or an unknown id) is NOT_FOUND. */
export async function revokeApiToken(db: Db, userId: string, id: string): Promise<void> {
  const [row] = await db
    .update(apiTokens)
    .set({ revokedAt: new Date() })
    .where(and(eq(apiTokens.id, id), eq(apiTokens.userId, userId), isNull(apiTokens.revokedAt)))
    .returning({ id: apiTokens.id });
  if (!row) throw new KaiError("NOT_FOUND", "no such API token");
}

/**
 * The user a presented token belongs to, or undefined when it is unknown, revoked or
 * expired. Looked up by hash on every request, so revocation applies to the next one.
 */
export async function authenticateApiToken(db: Db, secret: string) {
  const [row] = await db
    .select()
    .from(apiTokens)
    .where(and(eq(apiTokens.tokenHash, await sha256Hex(secret)), isNull(apiTokens.revokedAt)));
  if (!row) return undefined;
  const now = Date.now();
  if (row.expiresAt && row.expiresAt.getTime() <= now) return undefined;
  const touch =
    !row.lastUsedAt || now - row.lastUsedAt.getTime() > LAST_USED_GRANULARITY_MS
      ? db
          .update(apiTokens)
          .set({ lastUsedAt: new Date(now) })
          .where(eq(apiTokens.id, row.id))
          .then(() => undefined)
      : undefined;
  return { userId: row.userId, tokenId: row.id, touch };
}
