import { z } from "zod";

/** Webhooks (`/api/webhooks`): the AIKit Dashboard events plus Kai's container and host events. */

export const WEBHOOK_EVENTS = [
  "service:start",
  "service:stop",
  "service:error",
  "container.created",
  "container.started",
  "container.stopped",
  "container.restarted",
  "container.deleted",
  "container.died",
  "host.online",
  "host.offline",
] as const;
export const webhookEvent = z.enum(WEBHOOK_EVENTS);
export type WebhookEvent = z.infer<typeof webhookEvent>;

/** Sent by the test ping only; receivers can subscribe to nothing to get it. */
export const TEST_EVENT = "webhook.test";

export const createWebhookBody = z
  .object({
    url: z.url({ protocol: /^https?$/, message: "an http(s) URL" }).max(2048),
    events: z.array(webhookEvent).min(1).max(WEBHOOK_EVENTS.length).describe("Which events to receive"),
    secret: z
      .string()
      .min(16, { message: "at least 16 characters" })
      .max(256)
      .optional()
      .describe("Signing secret. `whsec_<base64>` as Standard Webhooks defines it, or any string of 16+ characters (its UTF-8 bytes are the key). Omit to have one generated and shown once."),
  })
  .strict()
  .meta({ id: "CreateWebhook" });

export const webhook = z
  .object({
    id: z.string(),
    url: z.string(),
    events: z.array(z.string()),
    active: z.boolean(),
    disabledReason: z.string().nullable(),
    createdAt: z.string(),
  })
  .meta({ id: "Webhook" });

export const createdWebhook = webhook.extend({ secret: z.string().optional().describe("Only when Kai generated it: shown once") }).meta({ id: "CreatedWebhook" });

export const webhookAttempt = z.object({
  attemptedAt: z.string(),
  status: z.number().int().nullable(),
  durationMs: z.number().int(),
  responseExcerpt: z.string().nullable(),
  error: z.string().nullable(),
});

export const webhookDelivery = z
  .object({
    id: z.string(),
    eventType: z.string(),
    status: z.enum(["pending", "succeeded", "failed"]),
    attempts: z.array(webhookAttempt),
    nextAttemptAt: z.string().nullable(),
    createdAt: z.string(),
  })
  .meta({ id: "WebhookDelivery" });

export type Webhook = z.infer<typeof webhook>;
