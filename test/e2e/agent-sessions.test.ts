import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { AgentSessionNotice } from "../../shared/schemas/agent-sessions";
import { fixturePolicy } from "../support/acp-fixture-profile";
import { startEdge } from "../support/edge-server";
import { request, signUp } from "../support/kai-client";
import { SessionViewer } from "../support/session-viewer";
import { until } from "../support/until";
import { SESSIONS_PATH, sessionSteps } from "./session-steps";
import { createWorld, type World } from "./world";

/**
 * Agent sessions end to end: the Worker on workerd, a real kai-agent whose policy names the
 * scripted ACP agent (test/fixtures/acp-agent.ts) as its only profile, real processes.
 */
let world: World;
let workspaceId: string;
let historyDir: string;

const sessionsPath = SESSIONS_PATH;
let steps: ReturnType<typeof sessionSteps>;
const startSession = (body: Record<string, unknown> = {}) => steps.start(workspaceId, body);
const send = (sessionId: string, message: string) => steps.send(sessionId, message);
const viewer = (sessionId: string, since?: number) => steps.view(sessionId, since);

beforeAll(async () => {
  historyDir = await mkdtemp(path.join(os.tmpdir(), "kai-acp-history-"));
  world = await createWorld({ policy: fixturePolicy({ ACP_FIXTURE_HISTORY_DIR: historyDir }) });
  steps = sessionSteps(world);
  workspaceId = await steps.workspace("agent-project");
}, 120_000);

afterEach(() => steps.endLive());

afterAll(async () => {
  await world?.dispose();
  if (historyDir) await rm(historyDir, { recursive: true, force: true });
});

describe("agent sessions", () => {
  it("reports the host's profiles and starts a session with its default one", async () => {
    const host = await world.api(`/api/hosts/${world.host.id}`);
    expect(host.body.data.agentProfiles).toEqual([expect.objectContaining({ name: "fixture", default: true })]);
    const session = await startSession();
    expect(session).toMatchObject({ profile: "fixture", host_id: world.host.id, status: "idle" });
    const listed = await world.api(`${sessionsPath}?workspace_id=${workspaceId}`);
    expect(listed.body.sessions.map((row: { id: string }) => row.id)).toContain(session.id);
  });

  it("streams every message type, numbered from 1 without gaps, to two viewers alike", async () => {
    const session = await startSession();
    const [first, second] = await Promise.all([viewer(session.id), viewer(session.id)]);
    const runId = await send(session.id, "scenario:all");
    const asked = await first.waitFor((message) => message.approval?.state === "pending", "the approval");
    first.send({ type: "approval", approval_id: asked.approval?.id, decision: "allow" });
    await first.turnEnd(runId);
    await second.turnEnd(runId);
    const types = new Set(first.messages.map((message) => message.type));
    for (const type of ["thinking", "tool_use", "tool_result", "text", "done"]) expect(types).toContain(type);
    expect(first.messages.map((message) => message.seq)).toEqual(first.messages.map((_, index) => index + 1));
    expect(second.messages).toEqual(first.messages);
    expect(first.messages.every((message) => message.run_id === runId)).toBe(true);
    first.close();
    second.close();
  });

  it("replays to a late viewer exactly what it missed after ?since, then goes live", async () => {
    const session = await startSession();
    const early = await viewer(session.id);
    const firstRun = await send(session.id, "scenario:echo one");
    await early.turnEnd(firstRun);
    const seen = early.messages.length;
    const late = await viewer(session.id, 1);
    await until(() => late.messages.length === seen - 1, 10_000, "the replay");
    const secondRun = await send(session.id, "scenario:echo two");
    await early.turnEnd(secondRun);
    await late.turnEnd(secondRun);
    expect(late.messages).toEqual(early.messages.slice(1));
    early.close();
    late.close();
  });

  it("answers an approval from REST once: the inbox lists it, a second answer is 409, viewers see the outcome", async () => {
    const session = await startSession();
    const watching = await viewer(session.id);
    const runId = await send(session.id, "scenario:permission");
    const asked = await watching.waitFor((message) => message.approval?.state === "pending", "an approval");
    const approvalId = asked.approval?.id as string;
    const inbox = await world.api("/api/v1/approvals");
    expect(inbox.body.approvals.map((approval: { id: string }) => approval.id)).toContain(approvalId);
    const details = await world.api(`${sessionsPath}/${session.id}`);
    expect(details.body.status).toBe("waiting_for_approval");

    const answered = await world.api(`${sessionsPath}/${session.id}/approvals/${approvalId}`, {
      body: { decision: "allow" },
    });
    expect(answered.status, JSON.stringify(answered.body)).toBe(200);
    const again = await world.api(`${sessionsPath}/${session.id}/approvals/${approvalId}`, {
      body: { decision: "reject" },
    });
    expect(again.status).toBe(409);
    const settled = await watching.waitFor(
      (message) => message.approval?.id === approvalId && message.approval.state !== "pending",
      "the approval's outcome",
    );
    expect(settled.approval).toMatchObject({ state: "allowed", reason: "answered" });
    expect((await watching.turnEnd(runId)).type).toBe("done");
    expect(watching.messages.some((message) => message.content === "permission: yes-once")).toBe(true);
    watching.close();
  });

  it("answers an approval from a viewer's socket, and refuses a second prompt while a turn runs", async () => {
    const session = await startSession();
    const watching = await viewer(session.id);
    const runId = await send(session.id, "scenario:permission");
    const asked = await watching.waitFor((message) => message.approval?.state === "pending", "an approval");
    const busy = await world.api(`${sessionsPath}/${session.id}/messages`, { body: { message: "hello" } });
    expect(busy.status).toBe(409);
    watching.send({ type: "approval", approval_id: asked.approval?.id, decision: "reject" });
    await watching.turnEnd(runId);
    expect(watching.messages.some((message) => message.content === "permission: no-once")).toBe(true);
    watching.close();
  });

  it("cancels a running turn: done with cancelled, and the session takes the next message", async () => {
    const session = await startSession();
    const watching = await viewer(session.id);
    const runId = await send(session.id, "scenario:slow");
    await watching.waitFor((message) => message.type === "text", "the first text");
    const cancelled = await world.api(`${sessionsPath}/${session.id}/cancel`, { method: "POST" });
    expect(cancelled.body).toEqual({ cancelled: true });
    expect(await watching.turnEnd(runId)).toMatchObject({ type: "done", content: "cancelled" });
    const next = await send(session.id, "scenario:echo after cancel");
    expect((await watching.turnEnd(next)).type).toBe("done");
    watching.close();
  });

  it("runs one synchronous turn through agent-chats, with and without session_id", async () => {
    const fresh = await world.api("/api/v1/agent-chats", {
      body: { message: "hello" },
      headers: { "X-Kai-Workspace": workspaceId },
    });
    expect(fresh.status, JSON.stringify(fresh.body)).toBe(200);
    expect(fresh.body.output).toBe("Hello from the fixture agent.");
    expect(fresh.body.events.at(-1)).toMatchObject({ type: "done", result: "end_turn" });
    const again = await world.api("/api/v1/agent-chats", {
      body: { message: "scenario:history", session_id: fresh.body.session_id },
    });
    expect(again.status).toBe(200);
    expect(again.body.session_id).toBe(fresh.body.session_id);
    expect(again.body.output).toBe("turns before this: 1");
  });

  it("refuses, in an agent-chats turn nobody watches, a tool call that needs approval", async () => {
    const chat = await world.api("/api/v1/agent-chats", {
      body: { message: "scenario:permission" },
      headers: { "X-Kai-Workspace": workspaceId },
    });
    expect(chat.status, JSON.stringify(chat.body)).toBe(200);
    expect(chat.body.output).toBe("permission: no-once");
  });

  it("reports a crash mid-turn with the exit code and stderr, and resumes on the next message", async () => {
    const session = await startSession();
    const watching = await viewer(session.id);
    const first = await send(session.id, "scenario:echo remember me");
    await watching.turnEnd(first);
    const crash = await send(session.id, "scenario:crash");
    const failure = await watching.turnEnd(crash);
    expect(failure.type).toBe("error");
    expect(failure.error).toMatch(/exit|code 3/i);
    expect(failure.error).toContain("segfault in scripted crash");
    await until(
      async () => (await world.api(`${sessionsPath}/${session.id}`)).body.status === "interrupted",
      10_000,
      "status interrupted",
    );
    const resumed = await send(session.id, "scenario:history");
    const done = await watching.turnEnd(resumed);
    expect(done.type).toBe("done");
    const reply = watching.messages.filter((message) => message.run_id === resumed && message.type === "text");
    expect(reply.map((message) => message.content).join("")).toMatch(/turns before this: [12]/);
    watching.close();
  });

  it("ends a session on DELETE: its process stops and it takes no more messages", async () => {
    const session = await startSession();
    const ended = await world.api(`${sessionsPath}/${session.id}`, { method: "DELETE" });
    expect(ended.status).toBe(200);
    expect(ended.body.status).toBe("ended");
    const late = await world.api(`${sessionsPath}/${session.id}/messages`, { body: { message: "hello" } });
    expect(late.status).toBe(409);
  });

  it("keeps another user's sessions, approvals and streams out of reach (404)", async () => {
    const session = await startSession();
    const stranger = await signUp(world.edge.url);
    const as = (apiPath: string, init: { method?: string; body?: unknown } = {}) =>
      request(world.edge.url, apiPath, { token: stranger.token, ...init });
    expect((await as(`${sessionsPath}/${session.id}`)).status).toBe(404);
    expect((await as(`${sessionsPath}/${session.id}/messages`, { body: { message: "hi" } })).status).toBe(404);
    expect((await as(`${sessionsPath}/${session.id}`, { method: "DELETE" })).status).toBe(404);
    const approval = `${sessionsPath}/${session.id}/approvals/${crypto.randomUUID()}`;
    expect((await as(approval, { body: { decision: "allow" } })).status).toBe(404);
    expect((await as(sessionsPath, { body: { workspace_id: workspaceId } })).status).toBe(404);
    await expect(SessionViewer.open(world.edge.url, stranger.token, session.id)).rejects.toThrow(/404/);
    expect((await as("/api/v1/approvals")).body.approvals).toEqual([]);
  });

  it("interrupts sessions when kai-agent restarts, and the next message resumes the conversation", async () => {
    const session = await startSession();
    const watching = await viewer(session.id);
    await watching.turnEnd(await send(session.id, "scenario:echo before the restart"));
    await send(session.id, "scenario:permission");
    const asked = await watching.waitFor((message) => message.approval?.state === "pending", "an approval");
    const inbox = async () =>
      ((await world.api("/api/v1/approvals")).body.approvals as { id: string }[]).map((approval) => approval.id);
    expect(await inbox()).toContain(asked.approval?.id);
    await world.agent.restart();
    await until(
      async () => (await world.api(`${sessionsPath}/${session.id}`)).body.status === "interrupted",
      20_000,
      "status interrupted after the restart",
    );
    // Nobody can answer what the gone process asked: it leaves the inbox rather than wait to expire.
    await until(async () => !(await inbox()).includes(asked.approval?.id ?? ""), 10_000, "the approval withdrawn");
    // Its viewers are told, by a notice without a seq (the agent numbers messages, and it is gone);
    // a viewer that comes back later gets it after the replay, even resuming after the message that asked.
    const withdrawn = (notice: AgentSessionNotice) =>
      notice.approval?.id === asked.approval?.id && notice.approval?.reason === "withdrawn";
    await until(() => watching.notices.some(withdrawn), 10_000, "the withdrawal told to the viewer");
    expect(watching.notices.find(withdrawn)).toMatchObject({
      type: "tool_use",
      tool_call_id: asked.tool_call_id,
      approval: { state: "cancelled", reason: "withdrawn", options: asked.approval?.options },
    });
    const late = await viewer(session.id, asked.seq);
    await until(() => late.notices.some(withdrawn), 10_000, "the withdrawal told to a viewer that comes back");
    late.close();
    const resumed = await send(session.id, "scenario:history");
    await watching.turnEnd(resumed);
    const reply = watching.messages.filter((message) => message.run_id === resumed && message.type === "text");
    expect(reply.map((message) => message.content).join("")).toBe("turns before this: 1");
    // Numbering goes on where the first process stopped.
    expect(watching.messages.map((message) => message.seq)).toEqual(watching.messages.map((_, index) => index + 1));
    watching.close();
  }, 60_000);

  // The world's edge is replaced by one on the same port and state, so later tests are unaffected.
  it("keeps the messages across an edge restart: a viewer resumes with since", async () => {
    const session = await startSession();
    const watching = await viewer(session.id);
    await watching.turnEnd(await send(session.id, "scenario:echo before the edge restart"));
    const seen = watching.messages.at(-1)?.seq ?? 0;
    const since = world.agent.lines.length;
    await world.edge.stop();
    await watching.closed;
    world.edge = await startEdge({ persistDir: world.edge.persistDir, port: world.edge.port });
    await world.agent.waitFor(/ connected /, 30_000, since);
    const back = await viewer(session.id, seen);
    const runId = await send(session.id, "scenario:echo after the edge restart");
    const done = await back.turnEnd(runId);
    expect(back.messages[0]?.seq).toBe(seen + 1);
    expect(done.seq).toBe(back.messages.length + seen);
    const replayed = await viewer(session.id, 0);
    await until(() => replayed.messages.at(-1)?.seq === done.seq, 10_000, "the whole session replayed");
    expect(replayed.messages.slice(0, seen)).toEqual(watching.messages);
    back.close();
    replayed.close();
  }, 90_000);

  it("answers bad input with 422 problems", async () => {
    const tooLong = await world.api(sessionsPath, { body: { workspace_id: workspaceId, message: "x".repeat(8001) } });
    expect(tooLong.status).toBe(422);
    expect(tooLong.headers.get("content-type")).toContain("application/problem+json");
    const badProfile = await world.api(sessionsPath, { body: { workspace_id: workspaceId, profile: "../bin/sh" } });
    expect(badProfile.status).toBe(422);
    const unknownProfile = await world.api(sessionsPath, { body: { workspace_id: workspaceId, profile: "nope" } });
    expect(unknownProfile.status).toBe(404);
    expect(unknownProfile.body.detail).toContain("nope");
  });
});
