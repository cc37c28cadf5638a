import { sql } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import type { AgentSessionStatus, ApprovalInfo } from "../../shared/schemas/agent-sessions";

type ApprovalState = ApprovalInfo["state"];

/**
 * The source of truth for D1. `npm run db:generate` turns changes here into a new file in
 * `migrations/`; the tests, `npm start` and deploy all apply those same files.
 */

const createdAt = () =>
  integer("created_at", { mode: "timestamp_ms" }).notNull().default(sql`(cast(unixepoch('subsec') * 1000 as integer))`);

export const users = sqliteTable(
  "users",
  {
    id: text("id").primaryKey(),
    /** Stored lower-cased: emails compare case-insensitively. */
    email: text("email").notNull().unique(),
    username: text("username").notNull(),
    /** `pbkdf2-sha256$<iterations>$<salt b64>$<hash b64>`: parameters travel with the hash. */
    passwordHash: text("password_hash").notNull(),
    avatarUrl: text("avatar_url"),
    bio: text("bio"),
    emailConfirmedAt: integer("email_confirmed_at", { mode: "timestamp_ms" }),
    createdAt: createdAt(),
    updatedAt: integer("updated_at", { mode: "timestamp_ms" }),
  },
  (t) => [uniqueIndex("users_username_lower_unique").on(sql`lower(${t.username})`)],
);

/** A registration waiting for its emailed code. One per email; a new request replaces it. */
export const verifications = sqliteTable("verifications", {
  email: text("email").primaryKey(),
  username: text("username").notNull(),
  passwordHash: text("password_hash").notNull(),
  redirectTo: text("redirect_to"),
  codeHash: text("code_hash").notNull(),
  attempts: integer("attempts").notNull().default(0),
  expiresAt: integer("expires_at", { mode: "timestamp_ms" }).notNull(),
  createdAt: createdAt(),
});

/**
 * A login: one family of rotating refresh tokens, plus the browser cookie when the login
 * came from a browser. Revoking it ends every token of the family, access tokens included
 * (they carry its id as `sid`).
 */
export const authSessions = sqliteTable(
  "auth_sessions",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    cookieHash: text("cookie_hash").unique(),
    expiresAt: integer("expires_at", { mode: "timestamp_ms" }).notNull(),
    revokedAt: integer("revoked_at", { mode: "timestamp_ms" }),
    revokedReason: text("revoked_reason"),
    createdAt: createdAt(),
  },
  (t) => [index("auth_sessions_user_idx").on(t.userId)],
);

export const refreshTokens = sqliteTable(
  "refresh_tokens",
  {
    tokenHash: text("token_hash").primaryKey(),
    sessionId: text("session_id")
      .notNull()
      .references(() => authSessions.id, { onDelete: "cascade" }),
    /** Set when the token is exchanged; presenting it again means it was stolen. */
    rotatedAt: integer("rotated_at", { mode: "timestamp_ms" }),
    expiresAt: integer("expires_at", { mode: "timestamp_ms" }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [index("refresh_tokens_session_idx").on(t.sessionId)],
);

export const apiTokens = sqliteTable(
  "api_tokens",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    prefix: text("prefix").notNull(),
    /** SHA-256 of the secret; the secret itself is never stored. */
    tokenHash: text("token_hash").notNull().unique(),
    expiresAt: integer("expires_at", { mode: "timestamp_ms" }),
    lastUsedAt: integer("last_used_at", { mode: "timestamp_ms" }),
    revokedAt: integer("revoked_at", { mode: "timestamp_ms" }),
    createdAt: createdAt(),
  },
  (t) => [index("api_tokens_user_idx").on(t.userId)],
);

/** Messages kept by the development mailer, read back through the dev mailbox route. */
export const devMailbox = sqliteTable(
  "dev_mailbox",
  {
    id: text("id").primaryKey(),
    to: text("to").notNull(),
    subject: text("subject").notNull(),
    text: text("text").notNull(),
    code: text("code"),
    createdAt: createdAt(),
  },
  (t) => [index("dev_mailbox_to_idx").on(t.to)],
);

/** An enrolled machine. Its agent token is stored as SHA-256 only and binds the agent to this host. */
export const hosts = sqliteTable(
  "hosts",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    tokenHash: text("token_hash").notNull().unique(),
    tokenPrefix: text("token_prefix").notNull(),
    online: integer("online", { mode: "boolean" }).notNull().default(false),
    lastSeenAt: integer("last_seen_at", { mode: "timestamp_ms" }),
    agentVersion: text("agent_version"),
    protocolVersion: integer("protocol_version"),
    dockerOk: integer("docker_ok", { mode: "boolean" }),
    dockerVersion: text("docker_version"),
    os: text("os"),
    arch: text("arch"),
    hostname: text("hostname"),
    /** The agent profiles its hello reported (AgentProfileInfo[]), as JSON; null before agents reported them. */
    agentProfilesJson: text("agent_profiles_json"),
    createdAt: createdAt(),
  },
  (t) => [
    index("hosts_user_idx").on(t.userId),
    // The audit log flushes the user's online hosts before a read, without reading the others.
    index("hosts_user_online_idx").on(t.userId, t.online),
    uniqueIndex("hosts_user_name_unique").on(t.userId, sql`lower(${t.name})`),
  ],
);

/**
 * The last `kai-agent doctor` report the edge relayed for a host (one row per host, replaced by
 * each run), so the host's page can show it while the machine is offline.
 */
export const doctorReports = sqliteTable("doctor_reports", {
  hostId: text("host_id")
    .primaryKey()
    .references(() => hosts.id, { onDelete: "cascade" }),
  /** The DoctorReport as the agent answered it (checked against its schema), as JSON. */
  reportJson: text("report_json").notNull(),
  checkedAt: integer("checked_at", { mode: "timestamp_ms" }).notNull(),
});

/** A Flexy catalog item: a directory on one of the user's hosts, and the container made for it. */
export const catalogItems = sqliteTable(
  "catalog_items",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    hostId: text("host_id")
      .notNull()
      .references(() => hosts.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    hostPath: text("host_path").notNull(),
    containerId: text("container_id"),
    createdAt: createdAt(),
  },
  (t) => [
    index("catalog_items_user_host_idx").on(t.userId, t.hostId),
    // Deleting a host cascades here: without it, SQLite reads every item of every user.
    index("catalog_items_host_idx").on(t.hostId),
  ],
);

/** One row per relayed command: who, where, what, how it ended and how long it took. */
export const auditLog = sqliteTable(
  "audit_log",
  {
    id: text("id").primaryKey(),
    userId: text("user_id").notNull(),
    hostId: text("host_id").notNull(),
    op: text("op").notNull(),
    /** "ok", or the error code the request ended with. */
    outcome: text("outcome").notNull(),
    durationMs: integer("duration_ms").notNull(),
    /** The same id travels as the frame id and appears in the agent's log. */
    requestId: text("request_id").notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    index("audit_log_user_created_idx").on(t.userId, t.createdAt),
    // The retention sweep runs per host (its Durable Object) and deletes by age.
    index("audit_log_host_created_idx").on(t.hostId, t.createdAt),
  ],
);

/** Remembered answers of POST requests sent with an `Idempotency-Key`, replayed on retries. */
export const idempotencyKeys = sqliteTable(
  "idempotency_keys",
  {
    userId: text("user_id").notNull(),
    key: text("key").notNull(),
    requestHash: text("request_hash").notNull(),
    /** Null while the first request is still running. */
    status: integer("status"),
    body: text("body"),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.key] })],
);

/**
 * A user's webhook endpoint. The signing secret must be usable to sign, so it cannot be
 * hashed: it is stored encrypted (AES-GCM under a key derived from the server's pepper).
 */
export const webhooks = sqliteTable(
  "webhooks",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    url: text("url").notNull(),
    /** JSON array of event types. */
    events: text("events").notNull(),
    secretCiphertext: text("secret_ciphertext").notNull(),
    active: integer("active", { mode: "boolean" }).notNull().default(true),
    disabledReason: text("disabled_reason"),
    createdAt: createdAt(),
  },
  (t) => [index("webhooks_user_idx").on(t.userId)],
);

/**
 * The durable outbox: one row per event per endpoint, written before the first attempt,
 * so a delivery survives an edge restart and is retried until it succeeds or gives up.
 */
export const webhookDeliveries = sqliteTable(
  "webhook_deliveries",
  {
    /** Also the `webhook-id` header: receivers deduplicate on it across retries. */
    id: text("id").primaryKey(),
    webhookId: text("webhook_id")
      .notNull()
      .references(() => webhooks.id, { onDelete: "cascade" }),
    eventType: text("event_type").notNull(),
    payload: text("payload").notNull(),
    /** pending, succeeded, failed (gave up) */
    status: text("status").notNull().default("pending"),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: integer("next_attempt_at", { mode: "timestamp_ms" }),
    createdAt: createdAt(),
  },
  (t) => [index("webhook_deliveries_due_idx").on(t.webhookId, t.status, t.nextAttemptAt)],
);

/** Every HTTP attempt of a delivery: when, what came back, how long it took. */
export const webhookAttempts = sqliteTable(
  "webhook_attempts",
  {
    id: text("id").primaryKey(),
    deliveryId: text("delivery_id")
      .notNull()
      .references(() => webhookDeliveries.id, { onDelete: "cascade" }),
    attemptedAt: integer("attempted_at", { mode: "timestamp_ms" }).notNull(),
    /** HTTP status, or null when no answer came (timeout, refused, redirect). */
    status: integer("status"),
    durationMs: integer("duration_ms").notNull(),
    responseExcerpt: text("response_excerpt"),
    error: text("error"),
  },
  (t) => [index("webhook_attempts_delivery_idx").on(t.deliveryId)],
);

/**
 * A coding agent's session in a workspace. Its messages live in the host's Durable Object
 * (capped per session), not here: this row changes on transitions only (status, title,
 * usage, the last seq), never per message.
 */
export const agentSessions = sqliteTable(
  "agent_sessions",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    hostId: text("host_id")
      .notNull()
      .references(() => hosts.id, { onDelete: "cascade" }),
    workspaceId: text("workspace_id")
      .notNull()
      .references(() => catalogItems.id, { onDelete: "cascade" }),
    /** The profile the agent ran the session with (null until it has started). */
    profile: text("profile"),
    status: text("status").$type<AgentSessionStatus>().notNull(),
    title: text("title"),
    /** The agent's own session id, which ACP's session/resume or session/load takes. */
    acpSessionId: text("acp_session_id"),
    /** The newest message number the edge has heard of, as of the last transition. */
    lastSeq: integer("last_seq").notNull().default(0),
    stopReason: text("stop_reason"),
    error: text("error"),
    /** The agent's last usage report (AgentUsage), as JSON. */
    usageJson: text("usage_json"),
    createdAt: createdAt(),
    updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull(),
    endedAt: integer("ended_at", { mode: "timestamp_ms" }),
  },
  (t) => [
    index("agent_sessions_user_created_idx").on(t.userId, t.createdAt),
    index("agent_sessions_user_workspace_idx").on(t.userId, t.workspaceId, t.createdAt),
    index("agent_sessions_user_status_idx").on(t.userId, t.status, t.createdAt),
    index("agent_sessions_host_idx").on(t.hostId),
    // Deleting a workspace cascades here by workspace_id alone.
    index("agent_sessions_workspace_idx").on(t.workspaceId),
  ],
);

/**
 * A permission an agent asked for, stored when it asks, for the inbox across hosts. Who
 * answers first is decided in the host's Durable Object; this row records how it ended.
 */
export const agentApprovals = sqliteTable(
  "agent_approvals",
  {
    id: text("id").primaryKey(),
    sessionId: text("session_id")
      .notNull()
      .references(() => agentSessions.id, { onDelete: "cascade" }),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    hostId: text("host_id")
      .notNull()
      .references(() => hosts.id, { onDelete: "cascade" }),
    toolCallId: text("tool_call_id"),
    tool: text("tool"),
    title: text("title"),
    /** The options offered (ApprovalOption[]), as JSON. */
    optionsJson: text("options_json").notNull(),
    /** pending, allowed, rejected or cancelled (ApprovalInfo's state). */
    state: text("state").$type<ApprovalState>().notNull().default("pending"),
    optionId: text("option_id"),
    /** answered, expired, turn_cancelled or withdrawn. */
    reason: text("reason"),
    createdAt: createdAt(),
    expiresAt: integer("expires_at", { mode: "timestamp_ms" }).notNull(),
    resolvedAt: integer("resolved_at", { mode: "timestamp_ms" }),
  },
  (t) => [
    index("agent_approvals_user_state_idx").on(t.userId, t.state, t.createdAt),
    index("agent_approvals_session_idx").on(t.sessionId),
    // Deleting a host cascades here by host_id alone.
    index("agent_approvals_host_idx").on(t.hostId),
  ],
);

/**
 * A pending device login (`kai-agent login`, RFC 8628's device authorization grant). Both
 * codes are stored as SHA-256 only: the device code is the agent's bearer secret until it
 * collects its token, and the user code (hashed in its normalised form, `BCDFGHJK`) is what a
 * person types. Approving creates the host at once (with the hash of a random value nobody
 * sees); the collecting poll swaps in the real token's hash and sets `consumedAt`.
 */
export const deviceLogins = sqliteTable(
  "device_logins",
  {
    id: text("id").primaryKey(),
    deviceCodeHash: text("device_code_hash").notNull(),
    userCodeHash: text("user_code_hash").notNull(),
    /** The host name the agent asked for (`--name`); the approver may change it. */
    name: text("name"),
    hostname: text("hostname").notNull(),
    os: text("os").notNull(),
    arch: text("arch").notNull(),
    /** The address the request came from (its rate-limit bucket), shown to the approver. */
    clientIp: text("client_ip").notNull(),
    expiresAt: integer("expires_at", { mode: "timestamp_ms" }).notNull(),
    /** The agent's last poll, which paces the next one (`interval`). */
    polledAt: integer("polled_at", { mode: "timestamp_ms" }),
    approvedBy: text("approved_by").references(() => users.id, { onDelete: "cascade" }),
    /** The host made at approval; deleting it (revoking) deletes this row too, so nothing collects it. */
    hostId: text("host_id").references(() => hosts.id, { onDelete: "cascade" }),
    approvedAt: integer("approved_at", { mode: "timestamp_ms" }),
    deniedAt: integer("denied_at", { mode: "timestamp_ms" }),
    consumedAt: integer("consumed_at", { mode: "timestamp_ms" }),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex("device_logins_device_code_unique").on(t.deviceCodeHash),
    uniqueIndex("device_logins_user_code_unique").on(t.userCodeHash),
    index("device_logins_expires_idx").on(t.expiresAt),
    // Deleting a host or a user cascades here by these columns alone.
    index("device_logins_host_idx").on(t.hostId),
    index("device_logins_approved_by_idx").on(t.approvedBy),
  ],
);
