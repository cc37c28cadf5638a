import { and, count, desc, eq, inArray } from "drizzle-orm";
import { KaiError } from "../../shared/errors";
import type { Webhook } from "../../shared/schemas/webhooks";
import type { Db } from "../db/client";
import { webhookAttempts, webhookDeliveries, webhooks } from "../db/schema";

type WebhookRow = typeof webhooks.$inferSelect;
type DeliveryRow = typeof webhookDeliveries.$inferSelect;

export function eventsOf(row: WebhookRow): string[] {
  const parsed: unknown = JSON.parse(row.events);
  return Array.isArray(parsed) ? parsed.filter((item): item is string => typeof item === "string") : [];
}

export function toWebhook(row: WebhookRow): Webhook {
  return {
    id: row.id,
    url: row.url,
    events: eventsOf(row),
    active: row.active,
    disabledReason: row.disabledReason,
    createdAt: row.createdAt.toISOString(),
  };
}

/** One of the user's own webhooks; anyone else's is NOT_FOUND. */
export async function findOwnWebhook(db: Db, userId: string, id: string): Promise<WebhookRow> {
  const [row] = await db
    .select()
    .from(webhooks)
    .where(and(eq(webhooks.id, id), eq(webhooks.userId, userId)));
  if (!row) throw new KaiError("NOT_FOUND", "no such webhook");
  return row;
}

export async function findOwnDelivery(db: Db, webhookId: string, deliveryId: string): Promise<DeliveryRow> {
  const [row] = await db
    .select()
    .from(webhookDeliveries)
    .where(and(eq(webhookDeliveries.id, deliveryId), eq(webhookDeliveries.webhookId, webhookId)));
  if (!row) throw new KaiError("NOT_FOUND", "no such delivery");
  return row;
}

/** The newest deliveries of a webhook, each with all of its attempts. */
export async function listDeliveries(db: Db, webhookId: string, limit: number) {
  const rows = await db
    .select()
    .from(webhookDeliveries)
    .where(eq(webhookDeliveries.webhookId, webhookId))
    .orderBy(desc(webhookDeliveries.createdAt))
    .limit(limit);
  const attempts = rows.length
    ? await db
        .select()
        .from(webhookAttempts)
        .where(
          inArray(
            webhookAttempts.deliveryId,
            rows.map((row) => row.id),
          ),
        )
        .orderBy(webhookAttempts.attemptedAt)
    : [];
  return rows.map((row) => ({
    id: row.id,
    eventType: row.eventType,
    status: row.status as "pending" | "succeeded" | "failed",
    nextAttemptAt: row.status === "pending" ? (row.nextAttemptAt?.toISOString() ?? null) : null,
    createdAt: row.createdAt.toISOString(),
    attempts: attempts
      .filter((attempt) => attempt.deliveryId === row.id)
      .map((attempt) => ({
        attemptedAt: attempt.attemptedAt.toISOString(),
        status: attempt.status,
        durationMs: attempt.durationMs,
        responseExcerpt: attempt.responseExcerpt,
        error: attempt.error,
      })),
  }));
}

/**
 * Endpoints one user may register. Every event reads all of the user's active endpoints to
 * fan out, so their number is what one event costs.
 */
export const MAX_WEBHOOKS_PER_USER = 20;

/**
 * Refuses a new endpoint past MAX_WEBHOOKS_PER_USER. Two registrations racing can both pass
 * and leave one more: the bound is what matters, not the exact number.
 */
export async function checkWebhookRoom(db: Db, userId: string): Promise<void> {
  const [row] = await db.select({ n: count() }).from(webhooks).where(eq(webhooks.userId, userId));
  if ((row?.n ?? 0) >= MAX_WEBHOOKS_PER_USER) {
    throw new KaiError(
      "CONFLICT",
      `you have ${MAX_WEBHOOKS_PER_USER} webhooks, the most one user may have: delete one you no longer use first`,
    );
  }
}
