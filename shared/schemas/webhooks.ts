import { z } from "zod";

/** Webhooks (`/api/webhooks`): the AIKit Dashboard events plus Kai's container and host events. */

const WEBHOOK_EVENTS = [
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
  "session.started",
  "session.approval_requested",
  "session.turn_completed",
  "session.ended",
  "session.failed",
] as const;
const webhookEvent = z.enum(WEBHOOK_EVENTS);
export type WebhookEvent = z.infer<typeof webhookEvent>;

/** Sent by the test ping only; receivers can subscribe to nothing to get it. */
export const TEST_EVENT = "webhook.test";

/**
 * A Standard Webhooks secret: `whsec_` and the key in standard base64, padded or not (both
 * WebCrypto's `atob` and the receivers' reference library decode either the same way).
 * Anything else starting with `whsec_` could not be decoded to sign with, so it is refused at
 * registration rather than failing every delivery.
 */
export const WHSEC_SECRET =
  /^whsec_(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{4}|[A-Za-z0-9+/]{3}=?|[A-Za-z0-9+/]{2}(?:==)?)$/;

export const createWebhookBody = z
  .object({
    url: z.url({ protocol: /^https?$/, message: "an http(s) URL" }).max(2048),
    events: z.array(webhookEvent).min(1).max(WEBHOOK_EVENTS.length).describe("Which events to receive"),
    secret: z
      .string()
      .min(16, { message: "at least 16 characters" })
      .max(256)
      .refine((value) => !value.startsWith("whsec_") || WHSEC_SECRET.test(value), {
        message:
          "a whsec_ secret must be standard base64 after the prefix (A-Z, a-z, 0-9, + and /, optionally padded with =); fix it, or omit the secret to have one generated",
      })
      .optional()
      .describe(
        "Signing secret. `whsec_<base64>` as Standard Webhooks defines it (standard base64, padding optional), or any string of 16+ characters (its UTF-8 bytes are the key). Omit to have one generated and shown once.",
      ),
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

export const createdWebhook = webhook
  .extend({ secret: z.string().optional().describe("Only when Kai generated it: shown once") })
  .meta({ id: "CreatedWebhook" });

const webhookAttempt = z.object({
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
