import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { fixturePolicy } from "../support/acp-fixture-profile";
import { AgentProcess } from "../support/agent-process";
import { enrollHost } from "../support/kai-client";
import { startTcpCut } from "../support/tcp-cut";
import { until } from "../support/until";
import { startReceiver } from "../support/webhook-receiver";
import { SESSIONS_PATH, sessionSteps } from "./session-steps";
import { createWorld, type World } from "./world";

/**
 * Agent sessions when things go wrong: the host drops off the network mid-turn (its kai-agent
 * behind a proxy the test cuts, its agent still running), an approval answered while it is
 * away, a flood of 10,000 messages, a synchronous turn that outlives its wait, and the
 * session webhooks.
 */
const SECRET = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
const sessionsPath = SESSIONS_PATH;
let world: World;
let historyDir: string;
let workspaceId: string;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
/** A second host of the same user whose kai-agent reaches the edge through a proxy that can be cut. */
let roaming: { agent: AgentProcess; proxy: Awaited<ReturnType<typeof startTcpCut>>; workspaceId: string };

const profilePolicy = () => fixturePolicy({ ACP_FIXTURE_HISTORY_DIR: historyDir });

let steps: ReturnType<typeof sessionSteps>;
const workspaceOn = (hostId: string, name: string) => steps.workspace(name, hostId);
const startSession = async (workspace: string) => (await steps.start(workspace)).id;
const send = (sessionId: string, message: string) => steps.send(sessionId, message);
const statusOf = async (sessionId: string) => (await world.api(`${sessionsPath}/${sessionId}`)).body.status;
const viewer = (sessionId: string, since?: number) => steps.view(sessionId, since);

beforeAll(async () => {
  historyDir = await mkdtemp(path.join(os.tmpdir(), "kai-acp-history-"));
  world = await createWorld({
    policy: profilePolicy(),
    edgeVars: { WEBHOOKS_ALLOW_PRIVATE: "true", AGENT_CHAT_TIMEOUT_MS: "3000" },
  });
  steps = sessionSteps(world);
  receiver = await startReceiver(SECRET);
  workspaceId = await workspaceOn(world.host.id, "steady");

  const host = await enrollHost(world.session);
  const proxy = await startTcpCut(new URL(world.edge.url));
  const agent = new AgentProcess(proxy.url, host.token, [world.root], [], undefined, profilePolicy());
  await agent.connected();
  roaming = { agent, proxy, workspaceId: await workspaceOn(host.id, "roaming") };
}, 120_000);

afterEach(async () => {
  roaming?.proxy.restore();
  await steps.endLive();
});

afterAll(async () => {
  await roaming?.agent.stop();
  await roaming?.proxy.close();
  await receiver?.close();
  await world?.dispose();
  if (historyDir) await rm(historyDir, { recursive: true, force: true });
});

describe("agent sessions through failures", () => {
  it("keeps a turn going while its host is off the network, and delivers every message after it returns", async () => {
    const session = await startSession(roaming.workspaceId);
    const watching = await viewer(session);
    const runId = await send(session, "scenario:slow");
    await watching.waitFor((message) => message.type === "text", "the first text");
    roaming.proxy.cut();
    await until(async () => (await statusOf(session)) === "disconnected", 10_000, "status disconnected");
    const seenWhileAway = watching.messages.length;
    await new Promise((resolve) => setTimeout(resolve, 1500));
    roaming.proxy.restore();
    const done = await watching.turnEnd(runId, 60_000);
    expect(done).toMatchObject({ type: "done", content: "end_turn" });
    expect(watching.messages.length).toBeGreaterThan(seenWhileAway);
    // Every message exactly once and in order, the ones made while the host was away included.
    expect(watching.messages.map((message) => message.seq)).toEqual(watching.messages.map((_, index) => index + 1));
    const texts = watching.messages.filter((message) => message.type === "text").map((message) => message.content);
    expect(texts).toEqual(Array.from({ length: 400 }, (_, index) => `slow ${index}\n`));
    await until(async () => (await statusOf(session)) === "idle", 10_000, "status idle after the turn");
    watching.close();
  }, 90_000);

  it("delivers an approval answered while the host was away once it reconnects", async () => {
    const session = await startSession(roaming.workspaceId);
    const watching = await viewer(session);
    const runId = await send(session, "scenario:permission");
    const asked = await watching.waitFor((message) => message.approval?.state === "pending", "an approval");
    roaming.proxy.cut();
    await until(async () => (await statusOf(session)) === "disconnected", 10_000, "status disconnected");
    const answered = await world.api(`${sessionsPath}/${session}/approvals/${asked.approval?.id}`, {
      body: { decision: "allow" },
    });
    expect(answered.status, JSON.stringify(answered.body)).toBe(200);
    expect(answered.body.delivered).toBe(false);
    roaming.proxy.restore();
    await watching.turnEnd(runId, 60_000);
    expect(watching.messages.some((message) => message.content === "permission: yes-once")).toBe(true);
    watching.close();
  }, 90_000);

  it("delivers a flood of 10,000 messages with nothing lost, past a stalled viewer, and says what a too-old since missed", async () => {
    const session = await startSession(workspaceId);
    const watching = await viewer(session);
    const stalled = await viewer(session);
    stalled.pause();
    const runId = await send(session, "scenario:flood");
    // The viewer that reads gets the whole turn while the other reads nothing.
    const done = await watching.turnEnd(runId, 120_000);
    expect(stalled.messages.length).toBe(0);
    stalled.resume();
    await stalled.turnEnd(runId, 60_000);
    expect(stalled.messages).toEqual(watching.messages);
    stalled.close();
    expect(done.type).toBe("done");
    const texts = watching.messages.filter((message) => message.type === "text");
    expect(texts.map((message) => message.content)).toEqual(Array.from({ length: 10_000 }, (_, i) => `${i}\n`));
    expect(watching.messages.map((message) => message.seq)).toEqual(watching.messages.map((_, index) => index + 1));
    const dump = watching.messages.find((message) => message.type === "tool_result");
    expect(dump?.truncated).toBe(true);
    // More than the 10,000 a session keeps: a viewer from the start is told what is gone first.
    const late = await viewer(session, 0);
    const first = await late.waitFor(() => true, "the first frame");
    expect(first.type).toBe("error");
    expect(first.error).toMatch(/no longer kept/);
    await until(() => late.messages.at(-1)?.seq === done.seq, 30_000, "the replay to the end");
    watching.close();
    late.close();
  }, 180_000);

  it("answers a synchronous turn that outlives its wait with 504, and the session stays usable", async () => {
    const first = await world.api("/api/v1/agent-chats", {
      body: { message: "scenario:slow" },
      headers: { "X-Kai-Workspace": workspaceId },
    });
    expect(first.status).toBe(504);
    expect(first.body.code).toBe("AGENT_TIMEOUT");
    const listed = await world.api(`${sessionsPath}?workspace_id=${workspaceId}&limit=1`);
    const sessionId = listed.body.sessions[0].id;
    await until(async () => (await statusOf(sessionId)) === "idle", 10_000, "the cancelled turn to end");
    const again = await world.api("/api/v1/agent-chats", { body: { message: "hello", session_id: sessionId } });
    expect(again.status, JSON.stringify(again.body)).toBe(200);
    expect(again.body.output).toBe("Hello from the fixture agent.");
  }, 60_000);

  it("fires the session webhooks through the signed outbox", async () => {
    const events = ["session.started", "session.approval_requested", "session.turn_completed", "session.ended"];
    const hook = await world.api("/api/webhooks", {
      body: { url: `${receiver.url}/sessions`, events, secret: SECRET },
    });
    expect(hook.status).toBe(201);
    const session = await startSession(workspaceId);
    const watching = await viewer(session);
    const runId = await send(session, "scenario:permission");
    const asked = await watching.waitFor((message) => message.approval?.state === "pending", "an approval");
    watching.send({ type: "approval", approval_id: asked.approval?.id, decision: "allow" });
    await watching.turnEnd(runId);
    await world.api(`${sessionsPath}/${session}`, { method: "DELETE" });
    const mine = () => receiver.received.filter((got) => got.payload?.data.sessionId === session);
    await until(() => mine().length >= 4, 20_000, "four session webhooks");
    expect(mine().every((got) => got.verified)).toBe(true);
    expect(mine().map((got) => got.payload?.type)).toEqual(events);
    watching.close();
  }, 60_000);
});
