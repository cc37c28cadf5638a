import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createSession } from "../../edge/agent-sessions/store";
import { database } from "../../edge/db/client";
import { SWEEP_INTERVAL_MS } from "../../edge/host-relay/retention";
import { addWorkspace } from "../../edge/workspaces/workspaces";
import { enrolledHost, hostRelay } from "./agent-socket";
import { call, registerUser, unique } from "./helpers";

/**
 * D1 retention in workerd, through the real objects' alarms: audit rows and ended sessions'
 * rows leave with the host's sweep (AUDIT_RETENTION_DAYS, AGENT_SESSION_ROW_RETENTION_DAYS,
 * 90 by default), settled webhook deliveries with their endpoint's dispatcher
 * (WEBHOOK_DELIVERY_RETENTION_DAYS, 30). Rows are dated back instead of waiting.
 */

const DAY = 86_400_000;
const db = () => database(env.DB);
const exists = async (table: string, id: string) =>
  (await env.DB.prepare(`SELECT 1 AS found FROM ${table} WHERE id = ?`).bind(id).first()) !== null;

async function auditRow(userId: string, hostId: string, ageDays: number): Promise<string> {
  const id = crypto.randomUUID();
  await env.DB.prepare(
    "INSERT INTO audit_log (id, user_id, host_id, op, outcome, duration_ms, request_id, created_at) VALUES (?, ?, ?, 'docker.ps', 'ok', 1, ?, ?)",
  )
    .bind(id, userId, hostId, id, Date.now() - ageDays * DAY)
    .run();
  return id;
}

describe("D1 retention", () => {
  it("the host's sweep deletes its audit rows and ended sessions past their days, keeps the rest, and plans again", async () => {
    const { host, user } = await enrolledHost();
    const other = await enrolledHost();
    const workspace = await addWorkspace(db(), { userId: user.id, hostId: host.id, name: unique("w"), hostPath: "/w" });
    const session = () =>
      createSession(db(), { userId: user.id, hostId: host.id, workspaceId: workspace.id, profile: null });
    const [oldEnded, recentEnded, oldRunning] = [await session(), await session(), await session()];
    const setSession = (id: string, status: string, endedDaysAgo: number | null) =>
      env.DB.prepare("UPDATE agent_sessions SET status = ?, ended_at = ? WHERE id = ?")
        .bind(status, endedDaysAgo === null ? null : Date.now() - endedDaysAgo * DAY, id)
        .run();
    await setSession(oldEnded.id, "ended", 91);
    await setSession(recentEnded.id, "failed", 10);
    await setSession(oldRunning.id, "running", null);
    const oldAudit = await auditRow(user.id, host.id, 91);
    const recentAudit = await auditRow(user.id, host.id, 5);
    const otherHostsAudit = await auditRow(other.user.id, other.host.id, 200);

    // The sweep is due now; the alarm, an hour away so it rings only when the test runs it.
    await runInDurableObject(hostRelay(host.id), async (_instance, state) => {
      await state.storage.put("retention-sweep", { userId: user.id, hostId: host.id, at: Date.now() });
      await state.storage.setAlarm(Date.now() + 3_600_000);
    });
    expect(await runDurableObjectAlarm(hostRelay(host.id))).toBe(true);

    expect(await exists("audit_log", oldAudit)).toBe(false);
    expect(await exists("audit_log", recentAudit)).toBe(true);
    expect(await exists("audit_log", otherHostsAudit)).toBe(true); // another host's sweep owns it
    expect(await exists("agent_sessions", oldEnded.id)).toBe(false);
    expect(await exists("agent_sessions", recentEnded.id)).toBe(true);
    expect(await exists("agent_sessions", oldRunning.id)).toBe(true);
    // Rows are left to age out, so the next sweep is a day away.
    const planned = await runInDurableObject(hostRelay(host.id), (_instance, state) =>
      state.storage.get<{ at: number }>("retention-sweep"),
    );
    expect(planned?.at).toBeGreaterThan(Date.now() + SWEEP_INTERVAL_MS - 60_000);
  });

  it("a webhook's dispatcher deletes its settled deliveries past their days, with their attempts", async () => {
    const user = await registerUser();
    const created = await call("/api/webhooks", {
      token: user.accessToken,
      body: { url: "https://hooks.example.com/kai", events: ["host.online"] },
    });
    expect(created.status).toBe(201);
    const webhookId = ((await created.json()) as { data: { id: string } }).data.id;
    const delivery = async (status: string, ageDays: number) => {
      const id = `msg_${crypto.randomUUID()}`;
      const at = Date.now() - ageDays * DAY;
      // A pending one is due in a day: this wake attempts nothing, so nothing leaves the test.
      await env.DB.prepare(
        "INSERT INTO webhook_deliveries (id, webhook_id, event_type, payload, status, attempts, next_attempt_at, created_at) VALUES (?, ?, 'host.online', '{}', ?, 1, ?, ?)",
      )
        .bind(id, webhookId, status, status === "pending" ? Date.now() + DAY : null, at)
        .run();
      await env.DB.prepare(
        "INSERT INTO webhook_attempts (id, delivery_id, attempted_at, status, duration_ms) VALUES (?, ?, ?, 200, 5)",
      )
        .bind(`${id}-1`, id, at)
        .run();
      return id;
    };
    const oldSucceeded = await delivery("succeeded", 31);
    const oldFailed = await delivery("failed", 45);
    const oldPending = await delivery("pending", 45);
    const recent = await delivery("succeeded", 2);

    const dispatcher = env.WEBHOOK_DISPATCHER.get(env.WEBHOOK_DISPATCHER.idFromName(webhookId));
    await runInDurableObject(dispatcher, async (_instance, state) => {
      await state.storage.put("webhookId", webhookId);
      await state.storage.setAlarm(Date.now() + 3_600_000); // rings when the test runs it
    });
    expect(await runDurableObjectAlarm(dispatcher)).toBe(true);

    expect(await exists("webhook_deliveries", oldSucceeded)).toBe(false);
    expect(await exists("webhook_attempts", `${oldSucceeded}-1`)).toBe(false);
    expect(await exists("webhook_deliveries", oldFailed)).toBe(false);
    expect(await exists("webhook_deliveries", oldPending)).toBe(true); // still owed a retry
    expect(await exists("webhook_deliveries", recent)).toBe(true);
    expect(await exists("webhook_attempts", `${recent}-1`)).toBe(true);
  });
});
