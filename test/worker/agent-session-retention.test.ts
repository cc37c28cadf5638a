import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createSession } from "../../edge/agent-sessions/store";
import { database } from "../../edge/db/client";
import { AGENT_SESSION_HEADER, AGENT_SESSION_SINCE_HEADER } from "../../edge/host-relay/headers";
import { SWEEP_INTERVAL_MS } from "../../edge/host-relay/retention";
import { addWorkspace } from "../../edge/workspaces/workspaces";
import { AGENT_SESSION_TOPIC } from "../../shared/protocol";
import type { AgentMessage, ApprovalInfo } from "../../shared/schemas/agent-sessions";
import { connectAgent, enrolledHost, hostRelay, type RawSocket, record } from "./agent-socket";
import { BASE, unique } from "./helpers";

/**
 * Retention through the host's real object: a session that ends plans a sweep on the object's
 * alarm; when it rings (a day later: here the planned time is moved to now, the only thing the
 * test does not wait for), the messages of sessions ended longer ago than
 * AGENT_SESSION_RETENTION_DAYS go, and approvals settled longer ago than APPROVAL_RETENTION_DAYS
 * leave D1. The D1 times are set back by 40 days, past both defaults (30).
 */

const db = () => database(env.DB);

function sendEvent(agent: RawSocket, data: unknown): void {
  agent.socket.send(JSON.stringify({ type: "event", topic: AGENT_SESSION_TOPIC, seq: 0, data }));
}

const plannedSweep = (hostId: string) =>
  runInDurableObject(hostRelay(hostId), (_instance, state) => state.storage.get<{ at: number }>("retention-sweep"));

async function openViewer(hostId: string, sessionId: string) {
  const response = await hostRelay(hostId).fetch(
    new Request(`${BASE}/viewer`, {
      headers: { Upgrade: "websocket", [AGENT_SESSION_HEADER]: sessionId, [AGENT_SESSION_SINCE_HEADER]: "0" },
    }),
  );
  return record(response);
}

describe("agent session retention", () => {
  it("prunes an ended session's messages and old approvals when the sweep is due, and keeps a live one", async () => {
    const enrolled = await enrolledHost();
    const { host, user } = enrolled;
    const workspace = await addWorkspace(db(), { userId: user.id, hostId: host.id, name: unique("w"), hostPath: "/w" });
    const newSession = () =>
      createSession(db(), { userId: user.id, hostId: host.id, workspaceId: workspace.id, profile: null });
    const ended = await newSession();
    const live = await newSession();
    const agent = await connectAgent(enrolled);

    const approval: ApprovalInfo = {
      id: crypto.randomUUID(),
      state: "pending",
      options: [{ id: "allow", name: "Allow", kind: "allow_once" }],
      expires_at: new Date(Date.now() + 600_000).toISOString(),
    };
    const messages: AgentMessage[] = [
      { type: "text", content: "hello", seq: 1 },
      { type: "tool_use", tool: "Bash", tool_call_id: "call-1", approval, seq: 2 },
      {
        type: "tool_use",
        tool: "Bash",
        tool_call_id: "call-1",
        approval: { ...approval, state: "allowed", option_id: "allow", reason: "answered" },
        seq: 3,
      },
    ];
    sendEvent(agent, { kind: "messages", sessionId: ended.id, messages });
    sendEvent(agent, { kind: "message", sessionId: live.id, message: { type: "text", content: "still here", seq: 1 } });
    sendEvent(agent, { kind: "state", sessionId: ended.id, state: { status: "ended", lastSeq: 3 } });

    const row = (sql: string, id: string) => env.DB.prepare(sql).bind(id).first<Record<string, unknown>>();
    await expect
      .poll(() => row("SELECT status FROM agent_sessions WHERE id = ?", ended.id))
      .toEqual({ status: "ended" });
    await expect
      .poll(() => row("SELECT state FROM agent_approvals WHERE id = ?", approval.id))
      .toEqual({ state: "allowed" });
    // Ending planned a sweep a day from now.
    const planned = await plannedSweep(host.id);
    expect(planned?.at).toBeGreaterThan(Date.now() + SWEEP_INTERVAL_MS - 60_000);

    // A day passes, and the session ended 40 days ago.
    const longAgo = Date.now() - 40 * 86_400_000;
    await env.DB.prepare("UPDATE agent_sessions SET ended_at = ? WHERE id = ?").bind(longAgo, ended.id).run();
    await env.DB.prepare("UPDATE agent_approvals SET resolved_at = ? WHERE id = ?").bind(longAgo, approval.id).run();
    await runInDurableObject(hostRelay(host.id), (_instance, state) =>
      state.storage.put("retention-sweep", { userId: user.id, hostId: host.id, at: Date.now() }),
    );
    expect(await runDurableObjectAlarm(hostRelay(host.id))).toBe(true);

    const late = await openViewer(host.id, ended.id);
    await expect.poll(() => late.frames.length).toBe(1);
    expect(late.frames[0]).toMatchObject({
      type: "error",
      seq: 3,
      error: expect.stringContaining("AGENT_SESSION_RETENTION_DAYS"),
    });
    expect(await row("SELECT id FROM agent_approvals WHERE id = ?", approval.id)).toBeNull();
    // The session's row stays (its title and usage); a live session's messages stay, and so does the next sweep.
    expect(await row("SELECT status FROM agent_sessions WHERE id = ?", ended.id)).toEqual({ status: "ended" });
    const watching = await openViewer(host.id, live.id);
    await expect.poll(() => watching.frames).toEqual([{ type: "text", content: "still here", seq: 1 }]);
    expect((await plannedSweep(host.id))?.at).toBeGreaterThan(Date.now() + SWEEP_INTERVAL_MS - 60_000);
  });
});
