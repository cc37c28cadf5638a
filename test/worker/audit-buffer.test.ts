import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { database } from "../../edge/db/client";
import { auditLog } from "../../edge/db/schema";
import { AuditBuffer, type AuditRow } from "../../edge/host-relay/audit-buffer";

const rowsFor = (userId: string, count: number): AuditRow[] =>
  Array.from({ length: count }, (_, n) => ({
    id: crypto.randomUUID(),
    userId,
    hostId: "host-audit",
    op: "ping",
    requestId: crypto.randomUUID(),
    outcome: n % 2 ? "ok" : "AGENT_TIMEOUT",
    durationMs: n,
    createdAt: new Date(Date.UTC(2026, 10, 22, 12, 0, n)),
  }));

const stored = (userId: string) => database(env.DB).select().from(auditLog).where(eq(auditLog.userId, userId));
/** A host's real Durable Object, whose storage the buffer keeps its pending rows in. */
const hostRelay = () => env.HOST_RELAY.get(env.HOST_RELAY.idFromName(`audit-test-${crypto.randomUUID()}`));
/** Rows waiting in the object's storage (stored in batches). */
const pendingIn = async (storage: DurableObjectStorage) =>
  storage.sql.exec<{ total: number | null }>("SELECT sum(count) AS total FROM audit_pending").one().total ?? 0;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("audit rows go to D1 in batches, through the host object's own storage", () => {
  it("moves rows into the object's storage within moments, and keeps them there until they are in D1", async () => {
    const userId = crypto.randomUUID();
    await runInDurableObject(hostRelay(), async (_instance, state) => {
      const buffer = new AuditBuffer(state.storage, env.DB, 60_000, 50);
      for (const row of rowsFor(userId, 4)) buffer.add(row);
      expect(await pendingIn(state.storage)).toBe(0);
      await sleep(150);
      expect(await pendingIn(state.storage)).toBe(4);
      for (const row of rowsFor(userId, 200)) buffer.add(row);
      expect(await pendingIn(state.storage)).toBe(204); // a full batch goes at once
      await buffer.flush();
      expect(await pendingIn(state.storage)).toBe(0);
    });
    expect(await stored(userId)).toHaveLength(204);
  });

  it("writes more rows than one statement may bind, all of them and exactly as given, on flush", async () => {
    const userId = crypto.randomUUID();
    const rows = rowsFor(userId, 137);
    await runInDurableObject(hostRelay(), async (_instance, state) => {
      const buffer = new AuditBuffer(state.storage, env.DB, 60_000);
      for (const row of rows) buffer.add(row);
      expect(await stored(userId)).toEqual([]);
      await buffer.flush();
      expect(await pendingIn(state.storage)).toBe(0);
    });
    const written = await stored(userId);
    expect(written.map((row) => row.requestId).sort()).toEqual(rows.map((row) => row.requestId).sort());
    expect(written.find((row) => row.durationMs === 3)).toMatchObject({ outcome: "ok", createdAt: rows[3]?.createdAt });
  });

  it("keeps rows that were never flushed for the next instance of the object (an eviction or a deploy)", async () => {
    const userId = crypto.randomUUID();
    await runInDurableObject(hostRelay(), async (_instance, state) => {
      const before = new AuditBuffer(state.storage, env.DB, 60_000, 20);
      for (const row of rowsFor(userId, 5)) before.add(row);
      await sleep(100);
      const after = new AuditBuffer(state.storage, env.DB, 60_000);
      await after.flush();
    });
    expect(await stored(userId)).toHaveLength(5);
  });

  it("sends a batch again without duplicates or errors when D1 already has some of it", async () => {
    const userId = crypto.randomUUID();
    const rows = rowsFor(userId, 20);
    await database(env.DB).insert(auditLog).values(rows.slice(0, 7));
    await runInDurableObject(hostRelay(), async (_instance, state) => {
      const buffer = new AuditBuffer(state.storage, env.DB, 60_000);
      for (const row of rows) buffer.add(row);
      await buffer.flush();
      expect(await pendingIn(state.storage)).toBe(0);
    });
    expect(await stored(userId)).toHaveLength(20);
  });

  it("writes on its own through the object's alarm", async () => {
    const userId = crypto.randomUUID();
    const stub = hostRelay();
    await runInDurableObject(stub, async (_instance, state) => {
      const buffer = new AuditBuffer(state.storage, env.DB, 60_000, 20);
      for (const row of rowsFor(userId, 3)) buffer.add(row);
      await sleep(100);
      // Due within the minute; run below at once instead of waiting for it.
      expect(await state.storage.getAlarm()).toBeGreaterThan(Date.now());
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await stored(userId)).toHaveLength(3);
  });
});
