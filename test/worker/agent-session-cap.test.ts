import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { database } from "../../edge/db/client";
import { addWorkspace } from "../../edge/workspaces/workspaces";
import { connectAgent, enrolledHost, type RawSocket } from "./agent-socket";
import { call, expectProblem, unique } from "./helpers";

/**
 * A user has at most 16 live agent sessions across their hosts (MAX_LIVE_SESSIONS_PER_USER):
 * the 17th start is 409, and ending one frees a slot. Through the real routes and host relay,
 * with a raw agent socket that starts and closes sessions as kai-agent answers.
 */

/** Answers every `agentSession.start` and `agentSession.close` the way kai-agent does. */
function playAgent(agent: RawSocket): void {
  agent.socket.addEventListener("message", (event) => {
    const frame = JSON.parse(String(event.data)) as { type?: string; id?: string; op?: string };
    const reply = (result: unknown) =>
      agent.socket.send(JSON.stringify({ type: "res", id: frame.id, ok: true, result }));
    if (frame.type !== "req") return;
    if (frame.op === "agentSession.start") reply({ profile: "fixture", state: { status: "idle", lastSeq: 0 } });
    if (frame.op === "agentSession.close") reply({ state: { status: "ended", lastSeq: 0 } });
  });
}

describe("live agent sessions per user", () => {
  it("refuses the 17th live session with 409, and takes one again once a session ended", async () => {
    const enrolled = await enrolledHost();
    const workspace = await addWorkspace(database(env.DB), {
      userId: enrolled.user.id,
      hostId: enrolled.host.id,
      name: unique("w"),
      hostPath: "/w",
    });
    playAgent(await connectAgent(enrolled));
    const start = () =>
      call("/api/v1/agent-sessions", { body: { workspace_id: workspace.id }, token: enrolled.user.accessToken });

    const started: string[] = [];
    for (let index = 0; index < 16; index++) {
      const response = await start();
      expect(response.status).toBe(201);
      started.push(((await response.json()) as { id: string }).id);
    }
    const body = await expectProblem(await start(), 409, "CONFLICT");
    expect(body["detail"]).toContain("16 live agent sessions");

    const ended = await call(`/api/v1/agent-sessions/${started[0]}`, {
      method: "DELETE",
      token: enrolled.user.accessToken,
    });
    expect(ended.status).toBe(200);
    expect(((await ended.json()) as { status: string }).status).toBe("ended");
    const again = await start();
    expect(again.status).toBe(201);
    expect(((await again.json()) as { status: string }).status).toBe("idle");
    expect((await start()).status).toBe(409);
  });
});
