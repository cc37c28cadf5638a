import { describe, expect, it } from "vitest";
import { AGENT_SESSION_HEADER, AGENT_SESSION_SINCE_HEADER } from "../../edge/host-relay/headers";
import { AGENT_SESSION_TOPIC } from "../../shared/protocol";
import type { AgentMessage } from "../../shared/schemas/agent-sessions";
import { connectAgent, enrolledHost, hostRelay, type RawSocket, record } from "./agent-socket";
import { BASE } from "./helpers";

/**
 * The host relay keeps each session's log gap-free: a message that skips ahead (the ones before
 * it died with a connection) makes it ask the agent to re-send, and messages the agent no
 * longer holds become one `error` that says so. Played frame by frame with a raw agent socket.
 */

const text = (seq: number): AgentMessage => ({ type: "text", content: `m${seq}`, seq });

function sendEvent(agent: RawSocket, data: unknown): void {
  agent.socket.send(JSON.stringify({ type: "event", topic: AGENT_SESSION_TOPIC, seq: 0, data }));
}

/** A session viewer from the start, straight on the host's object (the Worker's checks are tested elsewhere). */
function openViewer(hostId: string, sessionId: string): Promise<Response> {
  return hostRelay(hostId).fetch(
    new Request(`${BASE}/viewer`, {
      headers: { Upgrade: "websocket", [AGENT_SESSION_HEADER]: sessionId, [AGENT_SESSION_SINCE_HEADER]: "0" },
    }),
  );
}

type SyncRequest = { id: string; op: string; params: { sessions: { sessionId: string; lastSeq: number }[] } };

describe("agent session sync in the host relay", () => {
  it("asks for what is missing after a gap, and records what the agent no longer holds as one error", async () => {
    const enrolled = await enrolledHost();
    const agent = await connectAgent(enrolled);
    const sessionId = crypto.randomUUID();
    const watching = record(await openViewer(enrolled.host.id, sessionId));
    sendEvent(agent, { kind: "message", sessionId, message: text(1) });
    // A viewer hears a message only once the object's storage holds it (its output gate), so
    // the log's last seq is 1 from here on, whatever happens to the object's instance.
    await watching.next((frame) => frame.seq === 1);
    // 2 to 4 went into a connection that died; 5 arrives first.
    sendEvent(agent, { kind: "message", sessionId, message: text(5) });

    const first = await agent.next<SyncRequest>((frame) => frame.op === "agentSession.sync");
    expect(first.params.sessions).toEqual([{ sessionId, lastSeq: 1 }]);
    // The agent's buffer still holds 4 and 5 only: it re-sends them, then says 2 and 3 are lost.
    sendEvent(agent, { kind: "messages", sessionId, messages: [text(4), text(5)] });
    const state = { status: "running", lastSeq: 5 };
    agent.socket.send(
      JSON.stringify({
        type: "res",
        id: first.id,
        ok: true,
        result: { sessions: [{ sessionId, state, lost: { from: 2, to: 3 } }] },
      }),
    );

    const second = await agent.next<SyncRequest>((frame) => frame.op === "agentSession.sync" && frame.id !== first.id);
    expect(second.params.sessions).toEqual([{ sessionId, lastSeq: 3 }]);
    sendEvent(agent, { kind: "messages", sessionId, messages: [text(4), text(5)] });
    agent.socket.send(
      JSON.stringify({ type: "res", id: second.id, ok: true, result: { sessions: [{ sessionId, state }] } }),
    );

    // The viewer that watched live and one that joins now from 0 see the same gap-free log.
    const joining = record(await openViewer(enrolled.host.id, sessionId));
    for (const viewer of [watching, joining]) {
      await expect.poll(() => viewer.frames.length).toBe(4);
      const seen = viewer.frames as AgentMessage[];
      expect(seen.map((message) => message.seq)).toEqual([1, 3, 4, 5]);
      expect(seen[1]).toMatchObject({ type: "error", error: expect.stringContaining("messages 2 to 3 were lost") });
      expect(seen.map((message) => message.content)).toEqual(["m1", undefined, "m4", "m5"]);
    }
  });
});
