import { env } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { database } from "../../edge/db/client";
import { auditLog } from "../../edge/db/schema";
import { AuditBuffer, type AuditRow } from "../../edge/host-session/audit-buffer";

const rowsFor = (userId: string, count: number): AuditRow[] =>
  Array.from({ length: count }, (_, n) => ({
    id: crypto.randomUUID(),
    userId,
    hostId: "host-audit",
    op: "ping",
    requestId: crypto.randomUUID(),
    outcome: n % 2 ? "ok" : "AGENT_TIMEOUT",
    durationMs: n,
    createdAt: new Date(),
  }));

const stored = (userId: string) => database(env.DB).select().from(auditLog).where(eq(auditLog.userId, userId));

describe("audit rows are written to D1 in batches", () => {
  it("writes more rows than one statement may bind, all of them, on flush", async () => {
    const userId = crypto.randomUUID();
    const buffer = new AuditBuffer(env.DB, 60_000);
    const rows = rowsFor(userId, 37);
    for (const row of rows) buffer.add(row);
    expect(await stored(userId)).toEqual([]);
    await buffer.flush();
    const written = await stored(userId);
    expect(written.map((row) => row.requestId).sort()).toEqual(rows.map((row) => row.requestId).sort());
    expect(written.find((row) => row.durationMs === 3)?.outcome).toBe("ok");
  });

  it("writes on its own once the delay has passed, and at once when full", async () => {
    const userId = crypto.randomUUID();
    const buffer = new AuditBuffer(env.DB, 50, 10);
    for (const row of rowsFor(userId, 3)) buffer.add(row);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await stored(userId)).toHaveLength(3);

    const full = new AuditBuffer(env.DB, 60_000, 10);
    for (const row of rowsFor(userId, 10)) full.add(row);
    await new Promise((resolve) => setTimeout(resolve, 300)); // far below its 60 s delay
    expect(await stored(userId)).toHaveLength(13);
  });
});
