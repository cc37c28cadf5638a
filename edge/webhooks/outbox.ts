import { and, eq } from "drizzle-orm";
import { TEST_EVENT, type WebhookEvent } from "../../shared/schemas/webhooks";
import { database } from "../db/client";
import { webhookDeliveries, webhooks } from "../db/schema";
import type { Bindings } from "../env";
import { eventsOf, MAX_WEBHOOKS_PER_USER } from "./store";

/** The body every endpoint receives, as Standard Webhooks suggests: type, timestamp, data. */
function payloadOf(type: string, data: Record<string, unknown>): string {
  return JSON.stringify({ type, timestamp: new Date().toISOString(), data });
}

/** Wakes the endpoint's dispatcher, which attempts every due delivery in order. */
export async function kick(env: Bindings, webhookId: string): Promise<void> {
  await env.WEBHOOK_DISPATCHER.get(env.WEBHOOK_DISPATCHER.idFromName(webhookId)).kick(webhookId);
}

/**
 * Records `type` for every active endpoint of the user that subscribed to it (the outbox
 * row is written before any attempt) and wakes their dispatchers.
 */
export async function emitEvent(
  env: Bindings,
  userId: string,
  type: WebhookEvent,
  data: Record<string, unknown>,
): Promise<number> {
  const db = database(env.DB);
  const endpoints = (
    await db
      .select()
      .from(webhooks)
      .where(and(eq(webhooks.userId, userId), eq(webhooks.active, true)))
      .limit(MAX_WEBHOOKS_PER_USER)
  ).filter((row) => eventsOf(row).includes(type));
  if (endpoints.length === 0) return 0;
  const payload = payloadOf(type, data);
  const now = new Date();
  await db.insert(webhookDeliveries).values(
    endpoints.map((endpoint) => ({
      id: `msg_${crypto.randomUUID()}`,
      webhookId: endpoint.id,
      eventType: type,
      payload,
      nextAttemptAt: now,
      createdAt: now,
    })),
  );
  await Promise.all(endpoints.map((endpoint) => kick(env, endpoint.id)));
  return endpoints.length;
}

/** Queues the test ping for one endpoint, whatever it subscribed to. */
export async function queueTestPing(env: Bindings, webhookId: string): Promise<string> {
  const id = `msg_${crypto.randomUUID()}`;
  const now = new Date();
  await database(env.DB)
    .insert(webhookDeliveries)
    .values({
      id,
      webhookId,
      eventType: TEST_EVENT,
      payload: payloadOf(TEST_EVENT, { webhookId }),
      nextAttemptAt: now,
      createdAt: now,
    });
  await kick(env, webhookId);
  return id;
}
