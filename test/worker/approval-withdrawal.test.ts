import { describe, expect, it } from "vitest";
import { AGENT_SESSION_HEADER, AGENT_SESSION_SINCE_HEADER } from "../../edge/host-relay/headers";
import { AGENT_SESSION_TOPIC } from "../../shared/protocol";
import { type AgentMessage, type ApprovalInfo, agentSessionNotice } from "../../shared/schemas/agent-sessions";
import { connectAgent, enrolledHost, hostRelay, type RawSocket, record } from "./agent-socket";
import { BASE } from "./helpers";

/**
 * When a session's agent process is gone (`interrupted`: kai-agent restarted, and nobody can
 * answer what the process asked), the host relay withdraws its pending approvals and tells the
 * session's viewers with an unnumbered notice; a viewer that comes back gets it after the replay.
 */

function sendEvent(agent: RawSocket, data: unknown): void {
  agent.socket.send(JSON.stringify({ type: "event", topic: AGENT_SESSION_TOPIC, seq: 0, data }));
}

async function openViewer(hostId: string, sessionId: string, since: number) {
  const response = await hostRelay(hostId).fetch(
    new Request(`${BASE}/viewer`, {
      headers: { Upgrade: "websocket", [AGENT_SESSION_HEADER]: sessionId, [AGENT_SESSION_SINCE_HEADER]: String(since) },
    }),
  );
  return record(response);
}

describe("approvals withdrawn when the agent process is gone", () => {
  it("tells the viewers with a notice without a seq, and a viewer that comes back after the replay", async () => {
    const enrolled = await enrolledHost();
    const agent = await connectAgent(enrolled);
    const sessionId = crypto.randomUUID();
    const watching = await openViewer(enrolled.host.id, sessionId, 0);
    const approval: ApprovalInfo = {
      id: crypto.randomUUID(),
      state: "pending",
      options: [{ id: "ok", name: "Allow", kind: "allow_once" }],
      expires_at: new Date(Date.now() + 600_000).toISOString(),
    };
    const asked: AgentMessage = { type: "tool_use", tool: "Bash", tool_call_id: "call-1", approval, seq: 1 };
    sendEvent(agent, { kind: "message", sessionId, message: asked });
    await expect.poll(() => watching.frames.length).toBe(1);

    sendEvent(agent, { kind: "state", sessionId, state: { status: "interrupted", lastSeq: 1 } });
    const notice = await watching.next((frame) => frame.seq === undefined);
    expect(agentSessionNotice.strict().parse(notice)).toEqual({
      type: "tool_use",
      tool_call_id: "call-1",
      approval: { ...approval, state: "cancelled", reason: "withdrawn" },
    });

    // Back after the message that asked: nothing to replay, and still the notice.
    const back = await openViewer(enrolled.host.id, sessionId, 1);
    await expect.poll(() => back.frames).toEqual([notice]);
    // An answer now is too late.
    back.socket.send(JSON.stringify({ type: "approval", approval_id: approval.id, decision: "allow" }));
    await expect.poll(() => back.frames.at(-1)).toMatchObject({ type: "error", code: "CONFLICT" });
    expect(watching.frames).toHaveLength(2);
  });
});
