import { createRoute } from "@hono/zod-openapi";
import { and, count, desc, eq, gte, lt, ne, type SQL } from "drizzle-orm";
import { z } from "zod";
import { auditLog, hosts } from "../db/schema";
import { hostRelay } from "../host-relay/stub";
import { envelopeErrors } from "../http/openapi";
import { envelopeOf, ok } from "../http/respond";
import { declareRoutes } from "../http/route-group";

/** `GET /api/audit`: every command relayed to your hosts, newest first. */
export const auditRoutes = declareRoutes("signedIn");

/** The most hosts one read of the log asks to flush first. */
const FLUSHED_HOSTS = 50;

/**
 * How far one read counts and pages. D1 bills every row a statement reads, and a busy fleet
 * writes millions of rows within the retention: counting them all, or skipping them with an
 * offset, would make every page view cost that much. Older entries are reached with `to`.
 */
const AUDIT_WINDOW = 10_000;

const entry = z
  .object({
    id: z.string(),
    hostId: z.string(),
    op: z.string(),
    outcome: z.string().describe('"ok" or the error code'),
    durationMs: z.number(),
    requestId: z.string().describe("Also in the agent's log"),
    createdAt: z.string(),
  })
  .meta({ id: "AuditEntry" });

auditRoutes.openapi(
  createRoute({
    method: "get",
    path: "/",
    tags: ["audit"],
    summary: "Your audit log",
    request: {
      query: z.object({
        limit: z.coerce.number().int().min(1).max(200).default(50),
        offset: z.coerce
          .number()
          .int()
          .min(0)
          .max(AUDIT_WINDOW, { error: `at most ${AUDIT_WINDOW}: reach older entries with \`to\`` })
          .default(0)
          .describe(`At most ${AUDIT_WINDOW}: reach older entries with \`to\``),
        hostId: z.string().max(64).optional().describe("Only this host's commands"),
        op: z.string().max(64).optional().describe("Only this command, e.g. `container.list`"),
        outcome: z
          .string()
          .max(64)
          .optional()
          .describe("`ok`, `error` (anything but ok) or one error code, e.g. `AGENT_TIMEOUT`"),
        from: z.iso.datetime({ offset: true }).optional().describe("Entries at or after this time"),
        to: z.iso.datetime({ offset: true }).optional().describe("Entries before this time"),
      }),
    },
    responses: {
      200: {
        description: "Entries",
        content: {
          "application/json": {
            schema: envelopeOf(
              z.object({
                entries: z.array(entry),
                total: z.number().describe(`Matching entries, counted up to ${AUDIT_WINDOW}`),
                totalCapped: z.boolean().describe(`More than ${AUDIT_WINDOW} match: total is a lower bound`),
              }),
            ),
          },
        },
      },
      ...envelopeErrors(400, 401),
    },
  }),
  async (c) => {
    const { limit, offset, ...filters } = c.req.valid("query");
    const db = c.var.db;
    const userId = c.var.principal.userId;
    // Each host's Durable Object batches its audit rows; have them written before reading.
    // One that cannot flush now (its rows stay safe in its storage) must not fail the read.
    // Only connected hosts relay commands, so only they can hold rows from the last second:
    // the one asked about, or at most FLUSHED_HOSTS online ones, never every host of the user.
    const owned = await db
      .select({ id: hosts.id })
      .from(hosts)
      .where(and(eq(hosts.userId, userId), filters.hostId ? eq(hosts.id, filters.hostId) : eq(hosts.online, true)))
      .limit(FLUSHED_HOSTS);
    await Promise.allSettled(owned.map((host) => hostRelay(c.env, host.id).flushAudit()));
    const mine = and(eq(auditLog.userId, userId), ...auditFilters(filters));
    const rows = await db
      .select()
      .from(auditLog)
      .where(mine)
      .orderBy(desc(auditLog.createdAt))
      .limit(limit)
      .offset(offset);
    // Counted through a LIMIT, so the count reads at most AUDIT_WINDOW + 1 index entries.
    const window = db
      .select({ id: auditLog.id })
      .from(auditLog)
      .where(mine)
      .limit(AUDIT_WINDOW + 1)
      .as("window");
    const [counted] = await db.select({ value: count() }).from(window);
    const total = Math.min(counted?.value ?? 0, AUDIT_WINDOW);
    const totalCapped = (counted?.value ?? 0) > AUDIT_WINDOW;
    const entries = rows.map((row) => ({
      id: row.id,
      hostId: row.hostId,
      op: row.op,
      outcome: row.outcome,
      durationMs: row.durationMs,
      requestId: row.requestId,
      createdAt: row.createdAt.toISOString(),
    }));
    return ok(c, { entries, total, totalCapped }, "Audit log retrieved successfully");
  },
);

/** The SQL conditions of the optional filters; `outcome=error` is every outcome but "ok". */
function auditFilters(filters: { hostId?: string; op?: string; outcome?: string; from?: string; to?: string }) {
  const conditions: SQL[] = [];
  if (filters.hostId) conditions.push(eq(auditLog.hostId, filters.hostId));
  if (filters.op) conditions.push(eq(auditLog.op, filters.op));
  if (filters.outcome === "error") conditions.push(ne(auditLog.outcome, "ok"));
  else if (filters.outcome) conditions.push(eq(auditLog.outcome, filters.outcome));
  if (filters.from) conditions.push(gte(auditLog.createdAt, new Date(filters.from)));
  if (filters.to) conditions.push(lt(auditLog.createdAt, new Date(filters.to)));
  return conditions;
}
