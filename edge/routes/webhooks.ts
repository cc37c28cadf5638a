import { createRoute } from "@hono/zod-openapi";
import { asc, eq } from "drizzle-orm";
import { z } from "zod";
import { KaiError } from "../../shared/errors";
import { createdWebhook, createWebhookBody, webhook, webhookDelivery } from "../../shared/schemas/webhooks";
import { webhookDeliveries, webhooks } from "../db/schema";
import { envelopeErrors, jsonBody } from "../http/openapi";
import { pageQuery } from "../http/paging";
import { envelopeOf, ok } from "../http/respond";
import { declareRoutes } from "../http/route-group";
import { kick, queueTestPing } from "../webhooks/outbox";
import { encryptSecret } from "../webhooks/secrets";
import { generateSecret } from "../webhooks/signing";
import { checkWebhookRoom, findOwnDelivery, findOwnWebhook, listDeliveries, toWebhook } from "../webhooks/store";
import { checkTarget } from "../webhooks/targets";

/** `/api/webhooks`: signed (Standard Webhooks) notifications of service, container and host events. */
export const webhooksRoutes = declareRoutes("signedIn");

const idParam = z.object({ id: z.uuid() });
const deliveryParam = z.object({ id: z.uuid(), deliveryId: z.string().regex(/^msg_[0-9a-f-]{36}$/) });

webhooksRoutes.openapi(
  createRoute({
    method: "post",
    path: "/",
    tags: ["webhooks"],
    summary: "Register a webhook endpoint",
    request: { body: jsonBody(createWebhookBody) },
    responses: {
      201: { description: "Registered", content: { "application/json": { schema: envelopeOf(createdWebhook) } } },
      ...envelopeErrors(400, 401, 409),
    },
  }),
  async (c) => {
    const body = c.req.valid("json");
    const config = c.var.config;
    checkTarget(body.url, config.WEBHOOKS_ALLOW_PRIVATE);
    await checkWebhookRoom(c.var.db, c.var.principal.userId);
    const secret = body.secret ?? generateSecret();
    const [row] = await c.var.db
      .insert(webhooks)
      .values({
        id: crypto.randomUUID(),
        userId: c.var.principal.userId,
        url: body.url,
        events: JSON.stringify([...new Set(body.events)]),
        secretCiphertext: await encryptSecret(config.PASSWORD_PEPPER, secret),
        createdAt: new Date(),
      })
      .returning();
    if (!row) throw new Error("the webhook could not be stored");
    return ok(c, { ...toWebhook(row), ...(body.secret ? {} : { secret }) }, "Webhook registered", 201);
  },
);

webhooksRoutes.openapi(
  createRoute({
    method: "get",
    path: "/",
    tags: ["webhooks"],
    summary: "Your webhook endpoints",
    description: "Oldest first, a page at a time (`limit`, `offset`).",
    request: { query: pageQuery },
    responses: {
      200: { description: "Webhooks", content: { "application/json": { schema: envelopeOf(z.array(webhook)) } } },
      ...envelopeErrors(401),
    },
  }),
  async (c) => {
    const { limit, offset } = c.req.valid("query");
    const rows = await c.var.db
      .select()
      .from(webhooks)
      .where(eq(webhooks.userId, c.var.principal.userId))
      .orderBy(asc(webhooks.createdAt), asc(webhooks.id))
      .limit(limit)
      .offset(offset);
    return ok(c, rows.map(toWebhook), "Webhooks retrieved successfully");
  },
);

webhooksRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/{id}",
    tags: ["webhooks"],
    summary: "Delete a webhook endpoint (pending deliveries are dropped)",
    request: { params: idParam },
    responses: {
      200: {
        description: "Deleted",
        content: { "application/json": { schema: envelopeOf(z.object({ id: z.string() })) } },
      },
      ...envelopeErrors(400, 401, 404),
    },
  }),
  async (c) => {
    const db = c.var.db;
    const row = await findOwnWebhook(db, c.var.principal.userId, c.req.valid("param").id);
    await db.delete(webhooks).where(eq(webhooks.id, row.id));
    return ok(c, { id: row.id }, "Webhook deleted");
  },
);

webhooksRoutes.openapi(
  createRoute({
    method: "post",
    path: "/{id}/test",
    tags: ["webhooks"],
    summary: "Send a signed `webhook.test` event to the endpoint now",
    request: { params: idParam },
    responses: {
      202: {
        description: "Queued",
        content: { "application/json": { schema: envelopeOf(z.object({ deliveryId: z.string() })) } },
      },
      ...envelopeErrors(400, 401, 404),
    },
  }),
  async (c) => {
    const row = await findOwnWebhook(c.var.db, c.var.principal.userId, c.req.valid("param").id);
    return ok(c, { deliveryId: await queueTestPing(c.env, row.id) }, "Test event queued; see its deliveries", 202);
  },
);

webhooksRoutes.openapi(
  createRoute({
    method: "get",
    path: "/{id}/deliveries",
    tags: ["webhooks"],
    summary: "Recent deliveries with every attempt: time, status, duration, response excerpt",
    request: { params: idParam, query: z.object({ limit: z.coerce.number().int().min(1).max(100).default(20) }) },
    responses: {
      200: {
        description: "Deliveries",
        content: { "application/json": { schema: envelopeOf(z.array(webhookDelivery)) } },
      },
      ...envelopeErrors(400, 401, 404),
    },
  }),
  async (c) => {
    const db = c.var.db;
    const row = await findOwnWebhook(db, c.var.principal.userId, c.req.valid("param").id);
    return ok(c, await listDeliveries(db, row.id, c.req.valid("query").limit), "Deliveries retrieved successfully");
  },
);

webhooksRoutes.openapi(
  createRoute({
    method: "post",
    path: "/{id}/deliveries/{deliveryId}/redeliver",
    tags: ["webhooks"],
    summary: "Attempt a delivery again now (also one that gave up)",
    request: { params: deliveryParam },
    responses: {
      202: {
        description: "Queued",
        content: { "application/json": { schema: envelopeOf(z.object({ deliveryId: z.string() })) } },
      },
      ...envelopeErrors(400, 401, 404, 409),
    },
  }),
  async (c) => {
    const db = c.var.db;
    const { id, deliveryId } = c.req.valid("param");
    const row = await findOwnWebhook(db, c.var.principal.userId, id);
    const delivery = await findOwnDelivery(db, row.id, deliveryId);
    if (!row.active)
      throw new KaiError(
        "CONFLICT",
        `this webhook is disabled (${row.disabledReason ?? "no reason recorded"}); register the endpoint again`,
      );
    // A manual redelivery gets a fresh budget of automatic retries.
    await db
      .update(webhookDeliveries)
      .set({ status: "pending", attempts: 0, nextAttemptAt: new Date() })
      .where(eq(webhookDeliveries.id, delivery.id));
    await kick(c.env, row.id);
    return ok(c, { deliveryId: delivery.id }, "Redelivery queued", 202);
  },
);
