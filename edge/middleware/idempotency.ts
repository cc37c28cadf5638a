import { and, eq, lt } from "drizzle-orm";
import { createMiddleware } from "hono/factory";
import { KaiError } from "../../shared/errors";
import { isUniqueViolation } from "../db/errors";
import { idempotencyKeys } from "../db/schema";
import type { HostEnv } from "../env";
import { sha256Hex } from "../identity/crypto";

const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;
/** Keys are remembered this long; a retry after that runs as a new request. */
const KEY_TTL_MS = 24 * 3_600_000;

/**
 * Makes a POST safe to retry with an `Idempotency-Key` header: the first answer (success
 * or client error) is stored and replayed for the same key and the same request; the same
 * key with a different request, or while the first is still running, is CONFLICT. Server
 * errors are not stored, so a retry after an outage runs again.
 */
export const idempotent = createMiddleware<HostEnv>(async (c, next) => {
  const key = c.req.header("Idempotency-Key");
  if (key === undefined) return next();
  if (!KEY_PATTERN.test(key))
    throw new KaiError("VALIDATION_ERROR", "Idempotency-Key must be 1-255 visible ASCII characters");

  const db = c.var.db;
  const userId = c.var.principal.userId;
  const requestHash = await sha256Hex(`${c.req.method} ${c.req.path} ${c.var.host.id}\n${await c.req.text()}`);
  const mine = and(eq(idempotencyKeys.userId, userId), eq(idempotencyKeys.key, key));

  await db.delete(idempotencyKeys).where(and(mine, lt(idempotencyKeys.createdAt, new Date(Date.now() - KEY_TTL_MS))));
  try {
    await db.insert(idempotencyKeys).values({ userId, key, requestHash, createdAt: new Date() });
  } catch (error) {
    if (!isUniqueViolation(error)) throw error;
    const [seen] = await db.select().from(idempotencyKeys).where(mine);
    if (!seen || seen.requestHash !== requestHash) {
      throw new KaiError("CONFLICT", "this Idempotency-Key was already used for a different request");
    }
    if (seen.status === null || seen.body === null) {
      throw new KaiError("CONFLICT", "a request with this Idempotency-Key is still running; retry in a moment");
    }
    return new Response(seen.body, {
      status: seen.status,
      headers: { "content-type": "application/json", "Idempotent-Replayed": "true" },
    });
  }

  await next();
  if (c.res.status >= 500) {
    await db.delete(idempotencyKeys).where(mine);
  } else {
    await db
      .update(idempotencyKeys)
      .set({ status: c.res.status, body: await c.res.clone().text() })
      .where(mine);
  }
});
