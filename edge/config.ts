import { z } from "zod";
import { KaiError } from "../shared/errors";
import type { Bindings } from "./env";

const list = z
  .string()
  .optional()
  .transform((value) =>
    (value ?? "")
      .split(",")
      .map((item) => item.trim())
      .filter(Boolean),
  );

const configSchema = z.object({
  ENVIRONMENT: z.enum(["development", "test", "production"]).default("production"),
  JWT_SECRET: z.string().min(32, "JWT_SECRET must be at least 32 characters"),
  JWT_KID: z.string().min(1).optional(),
  PASSWORD_PEPPER: z.string().min(16, "PASSWORD_PEPPER must be at least 16 characters"),
  ADMIN_EMAILS: list,
  PUBLIC_ORIGIN: z.url().optional(),
  ALLOWED_ORIGINS: list,
  MAIL_API_URL: z.url().optional(),
  MAIL_API_KEY: z.string().optional(),
  MAIL_FROM: z.string().optional(),
  /** How long the edge waits for an agent's answer before AGENT_TIMEOUT. */
  AGENT_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(30_000),
  /**
   * How long `POST /api/v1/agent-chats` waits for its turn before cancelling it and answering
   * AGENT_TIMEOUT (the session stays usable). Longer work belongs on the session's WebSocket.
   */
  AGENT_CHAT_TIMEOUT_MS: z.coerce.number().int().min(1000).max(600_000).default(120_000),
  /**
   * Days an ended or failed agent session's messages stay in its host's object; then they are
   * deleted and a viewer is told so (its row, with title and usage, stays in D1).
   */
  AGENT_SESSION_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  /** Days a settled approval (answered, expired, cancelled, withdrawn) stays in D1 after it ended. */
  APPROVAL_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  /**
   * Days an ended or failed agent session's D1 row (title, usage, status) stays after it ended;
   * never less than AGENT_SESSION_RETENTION_DAYS, so its messages always go first.
   */
  AGENT_SESSION_ROW_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
  /** Days a relayed command's audit row stays in D1. */
  AUDIT_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
  /** Days a settled webhook delivery (succeeded or given up), with its attempts, stays in D1. */
  WEBHOOK_DELIVERY_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  /** Requests per hour per caller on `/api` (the auth routes have tighter limits of their own). */
  API_RATE_LIMIT_PER_HOUR: z.coerce.number().int().min(1).default(5000),
  /**
   * Agent connections admitted per second across the edge, after a burst of
   * AGENT_CONNECT_BURST. When the edge restarts, every agent dials at once; pacing them spares
   * D1 (each connect writes the host's state and a webhook event) and spreads the herd.
   */
  AGENT_CONNECT_RATE_PER_SECOND: z.coerce.number().min(0.1).max(10_000).default(50),
  AGENT_CONNECT_BURST: z.coerce.number().int().min(1).max(10_000).default(50),
  /**
   * Self-hosting behind your own reverse proxy: the request header it writes each client's
   * address into, e.g. `X-Real-IP` or `X-Forwarded-For` (of a list, the last entry counts).
   * The proxy must overwrite whatever a client sends in it. Unset, per-IP limits trust
   * `CF-Connecting-IP` only on a production deploy behind Cloudflare; anywhere else every
   * anonymous caller shares one bucket, "unattributed" (see edge/middleware/client-ip.ts).
   */
  TRUSTED_CLIENT_IP_HEADER: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9-]*$/, "TRUSTED_CLIENT_IP_HEADER must be a header name such as X-Real-IP, or empty")
    .optional()
    .transform((value) => value || undefined),
  /**
   * How long a device login (`kai-agent login`) waits for approval, and for its agent to
   * collect the token once approved. RFC 8628 suggests minutes; tests shorten it.
   */
  DEVICE_CODE_TTL_SECONDS: z.coerce.number().int().min(1).max(3600).default(600),
  /** Seconds a device login's agent waits between two polls (RFC 8628's `interval`); tests lengthen it past a short TTL. */
  DEVICE_POLL_INTERVAL_SECONDS: z.coerce.number().int().min(1).max(60).default(5),
  /** Development only: let webhooks target loopback and private networks (local receivers). */
  WEBHOOKS_ALLOW_PRIVATE: z
    .enum(["true", "false"])
    .default("false")
    .transform((value) => value === "true"),
  /** The first retry delay of a failed delivery; later ones double from it. */
  WEBHOOK_RETRY_BASE_MS: z.coerce.number().int().min(10).default(5000),
});

export type Config = z.infer<typeof configSchema> & { adminEmails: Set<string> };

/** Every setting the schema reads, as the Worker receives it: a var or secret, or absent. */
export type Settings = { [Name in keyof typeof configSchema.shape]?: string };

const parsed = new WeakMap<object, Config>();

/**
 * Reads the bindings once per isolate (the env object is stable across requests) and
 * fails closed: a deploy without its secrets answers 500 and logs which one is missing,
 * rather than signing tokens with an empty key.
 */
export function configFrom(env: Bindings): Config {
  const cached = parsed.get(env);
  if (cached) return cached;
  const result = configSchema.safeParse(env);
  if (!result.success) {
    // A log line for the operator, not an API answer: zod's own rendering names each setting.
    console.error(`kai: server configuration is invalid:\n${z.prettifyError(result.error)}`);
    throw new KaiError("INTERNAL_ERROR", "the server is not configured; see its log");
  }
  const config = {
    ...result.data,
    adminEmails: new Set(result.data.ADMIN_EMAILS.map((item) => item.toLowerCase())),
  };
  parsed.set(env, config);
  return config;
}
