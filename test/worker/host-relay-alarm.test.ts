import { env, runInDurableObject } from "cloudflare:test";
import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { database } from "../../edge/db/client";
import { auditLog } from "../../edge/db/schema";
import { HELLO_TIMEOUT_MS } from "../../edge/host-relay/agent-connections";
import type { Outcome } from "../../edge/host-relay/pending";
import { CLOSE_CODES } from "../../shared/protocol";
import { connectAgent, dial, type EnrolledHost, enrolledHost, hostRelay, type RawSocket } from "./agent-socket";

/**
 * A host object's alarm after its agent's welcome: the alarm set for the hello check goes once
 * the hello came, so an idle host's object is not woken 10 s after each connect for nothing;
 * what else needs the alarm (another dial's hello check, a planned retention sweep, the audit's
 * flush) keeps it.
 */

const alarmOf = (hostId: string) =>
  runInDurableObject(hostRelay(hostId), (_instance, state) => state.storage.getAlarm());

const sweepDueOf = (hostId: string) =>
  runInDurableObject(
    hostRelay(hostId),
    async (_instance, state) => (await state.storage.get<{ at: number }>("retention-sweep"))?.at,
  );

/** A ping relayed to `agent` and answered by it; resolves once the object has the answer. */
async function answeredPing(enrolled: EnrolledHost, agent: RawSocket): Promise<string> {
  const requestId = crypto.randomUUID();
  const outcome = hostRelay(enrolled.host.id).call(requestId, "ping", {}, 5_000, {
    userId: enrolled.user.id,
    hostId: enrolled.host.id,
  }) as Promise<Outcome>;
  await agent.next((frame) => frame.type === "req" && frame.id === requestId);
  agent.socket.send(JSON.stringify({ type: "res", id: requestId, ok: true, result: { pong: true, agentTime: "now" } }));
  expect(await outcome).toMatchObject({ ok: true });
  return requestId;
}

describe("HostRelay: the alarm after an agent's welcome", () => {
  it("is gone once the agent is welcomed and nothing else needs it", async () => {
    const enrolled = await enrolledHost();
    const agent = await connectAgent(enrolled);
    await expect.poll(() => alarmOf(enrolled.host.id)).toBeNull();
    agent.socket.close(1000, "done");
  });

  it("moves to a planned retention sweep", async () => {
    const enrolled = await enrolledHost();
    const first = await connectAgent(enrolled);
    // A relayed command plans the host's retention sweep (a day later) and audits the call.
    await answeredPing(enrolled, first);
    await hostRelay(enrolled.host.id).flushAudit();
    const sweepAt = await sweepDueOf(enrolled.host.id);
    expect(sweepAt).toBeGreaterThan(Date.now() + HELLO_TIMEOUT_MS);
    // The audit's flush rang the alarm, which then waits for the sweep.
    await expect.poll(() => alarmOf(enrolled.host.id), { timeout: 5_000 }).toBe(sweepAt);

    // A new connection sets the hello check (earlier than the sweep), and its welcome takes it back.
    const second = await connectAgent(enrolled);
    await expect.poll(() => alarmOf(enrolled.host.id)).toBe(sweepAt);
    second.socket.close(1000, "done");
  });

  it("still rings for the audit's flush when a welcome comes while rows wait", async () => {
    const enrolled = await enrolledHost();
    const first = await connectAgent(enrolled);
    const requestId = await answeredPing(enrolled, first);
    // Welcomed right after the call, before the audit's flush (a second later) wrote its row to D1.
    const second = await connectAgent(enrolled);
    const audited = () =>
      database(env.DB)
        .select({ id: auditLog.id })
        .from(auditLog)
        .where(and(eq(auditLog.hostId, enrolled.host.id), eq(auditLog.requestId, requestId)));
    await expect.poll(audited, { timeout: 10_000 }).toHaveLength(1);
    second.socket.close(1000, "done");
  });

  it(
    "still closes another dial that owes its hello, with HELLO_REQUIRED",
    async () => {
      const enrolled = await enrolledHost();
      const silent = await dial(enrolled.token);
      const agent = await connectAgent(enrolled);
      expect((await silent.closed).code).toBe(CLOSE_CODES.HELLO_REQUIRED);
      expect(agent.socket.readyState).toBe(WebSocket.OPEN);
      agent.socket.close(1000, "done");
    },
    HELLO_TIMEOUT_MS + 10_000,
  );
});
