import { DurableObject } from "cloudflare:workers";
import { and, asc, eq, lt, lte, ne } from "drizzle-orm";
import { messageOf } from "../../shared/errors";
import { configFrom } from "../config";
import { type Db, database } from "../db/client";
import { webhookAttempts, webhookDeliveries, webhooks } from "../db/schema";
import type { Bindings } from "../env";
import { type AttemptResult, attemptDelivery, MAX_ATTEMPTS, retryDelayMs } from "./deliver";

const BATCH = 25;
const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Retention: the endpoint's settled deliveries created before `before` go, their attempts
 * with them (cascade). Run on each wake, so an endpoint that receives events keeps about
 * WEBHOOK_DELIVERY_RETENTION_DAYS of history; one that receives none adds nothing to prune.
 */
async function pruneSettled(db: Db, webhookId: string, before: Date): Promise<void> {
  await db
    .delete(webhookDeliveries)
    .where(
      and(
        eq(webhookDeliveries.webhookId, webhookId),
        ne(webhookDeliveries.status, "pending"),
        lt(webhookDeliveries.createdAt, before),
      ),
    );
}

/**
 * An attempt that throws (it should not) is recorded as a failed attempt and retried on the
 * usual schedule: one bad delivery must never stop the alarm and leave every later one
 * pending with nothing recorded.
 */
async function attemptOnce(...args: Parameters<typeof attemptDelivery>): Promise<AttemptResult> {
  const started = Date.now();
  try {
    return await attemptDelivery(...args);
  } catch (error) {
    return {
      ok: false,
      status: null,
      durationMs: Date.now() - started,
      responseExcerpt: null,
      error: `the attempt failed inside Kai: ${messageOf(error)}`,
      gone: false,
      permanent: false,
    };
  }
}

/**
 * One per webhook endpoint: attempts its due deliveries and schedules the next retry with
 * an alarm. Alarms are durable, so pending retries survive an edge restart; the outbox
 * rows in D1 are the truth, this object only decides when to look at them.
 */
export class WebhookDispatcher extends DurableObject<Bindings> {
  /** Called after new deliveries were written: attempt them now. */
  async kick(webhookId: string): Promise<void> {
    await this.ctx.storage.put("webhookId", webhookId);
    await this.ctx.storage.setAlarm(Date.now());
  }

  override async alarm(): Promise<void> {
    const webhookId = await this.ctx.storage.get<string>("webhookId");
    if (!webhookId) return;
    const config = configFrom(this.env);
    const db = database(this.env.DB);
    const [endpoint] = await db.select().from(webhooks).where(eq(webhooks.id, webhookId));
    if (!endpoint) return this.ctx.storage.deleteAll(); // the webhook was deleted
    if (!endpoint.active) return; // disabled (410 Gone): nothing more is sent
    await pruneSettled(db, webhookId, new Date(Date.now() - config.WEBHOOK_DELIVERY_RETENTION_DAYS * DAY_MS));

    const due = await db
      .select()
      .from(webhookDeliveries)
      .where(
        and(
          eq(webhookDeliveries.webhookId, webhookId),
          eq(webhookDeliveries.status, "pending"),
          lte(webhookDeliveries.nextAttemptAt, new Date()),
        ),
      )
      .orderBy(asc(webhookDeliveries.createdAt))
      .limit(BATCH);

    for (const delivery of due) {
      const outcome = await attemptOnce(config, endpoint, delivery);
      const attempts = delivery.attempts + 1;
      await db.insert(webhookAttempts).values({
        id: crypto.randomUUID(),
        deliveryId: delivery.id,
        attemptedAt: new Date(Date.now() - outcome.durationMs),
        status: outcome.status,
        durationMs: outcome.durationMs,
        responseExcerpt: outcome.responseExcerpt,
        error: outcome.error,
      });
      const giveUp = outcome.permanent || outcome.gone || attempts >= MAX_ATTEMPTS;
      await db
        .update(webhookDeliveries)
        .set({
          attempts,
          status: outcome.ok ? "succeeded" : giveUp ? "failed" : "pending",
          nextAttemptAt:
            outcome.ok || giveUp ? null : new Date(Date.now() + retryDelayMs(config.WEBHOOK_RETRY_BASE_MS, attempts)),
        })
        .where(eq(webhookDeliveries.id, delivery.id));
      if (outcome.gone) {
        // 410 Gone: the receiver asked to be forgotten. Stop calling it, and say why.
        await db
          .update(webhooks)
          .set({ active: false, disabledReason: "the endpoint answered 410 Gone" })
          .where(eq(webhooks.id, webhookId));
        await db
          .update(webhookDeliveries)
          .set({ status: "failed", nextAttemptAt: null })
          .where(and(eq(webhookDeliveries.webhookId, webhookId), eq(webhookDeliveries.status, "pending")));
        return;
      }
    }
    await this.#scheduleNext(webhookId, due.length === BATCH);
  }

  async #scheduleNext(webhookId: string, moreDue: boolean): Promise<void> {
    if (moreDue) return this.ctx.storage.setAlarm(Date.now());
    const [next] = await database(this.env.DB)
      .select({ at: webhookDeliveries.nextAttemptAt })
      .from(webhookDeliveries)
      .where(and(eq(webhookDeliveries.webhookId, webhookId), eq(webhookDeliveries.status, "pending")))
      .orderBy(asc(webhookDeliveries.nextAttemptAt))
      .limit(1);
    if (next?.at) await this.ctx.storage.setAlarm(next.at.getTime());
  }
}
