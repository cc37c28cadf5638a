import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { fixturePolicy } from "../support/acp-fixture-profile";
import { until } from "../support/until";
import { SESSIONS_PATH, sessionSteps } from "./session-steps";
import { createWorld, type World } from "./world";

/**
 * The timeouts a host's owner sets in kai-agent's policy file (`agentSessions`), seen through
 * the Worker: an approval nobody answers expires as a refusal, and a turn that runs too long is
 * cancelled (its agent stopped when it ignores the cancel). Short values, so the tests wait
 * seconds, not the defaults' minutes; nothing here asserts how long anything took.
 */
const APPROVAL_TIMEOUT_SECONDS = 3;
/** Longer than the `slow` scenario's shortest run (400 chunks 25 ms apart) can never be. */
const TURN_TIMEOUT_SECONDS = 8;
const sessionsPath = SESSIONS_PATH;
let world: World;
let historyDir: string;
let workspaceId: string;

let steps: ReturnType<typeof sessionSteps>;
const startSession = async () => (await steps.start(workspaceId)).id;
const send = (sessionId: string, message: string) => steps.send(sessionId, message);
const details = async (sessionId: string) => (await world.api(`${sessionsPath}/${sessionId}`)).body;
const viewer = (sessionId: string) => steps.view(sessionId);

beforeAll(async () => {
  historyDir = await mkdtemp(path.join(os.tmpdir(), "kai-acp-history-"));
  world = await createWorld({
    policy: {
      ...fixturePolicy({ ACP_FIXTURE_HISTORY_DIR: historyDir }),
      agentSessions: { approvalTimeoutSeconds: APPROVAL_TIMEOUT_SECONDS, turnTimeoutSeconds: TURN_TIMEOUT_SECONDS },
    },
  });
  steps = sessionSteps(world);
  workspaceId = await steps.workspace("timeouts");
}, 120_000);

afterEach(() => steps.endLive());

afterAll(async () => {
  await world?.dispose();
  if (historyDir) await rm(historyDir, { recursive: true, force: true });
});

describe("agent session timeouts from kai-agent's policy", () => {
  it("expires an unanswered approval as a refusal, resolved everywhere; a late answer is 409", async () => {
    const session = await startSession();
    const watching = await viewer(session);
    const runId = await send(session, "scenario:permission");
    const asked = await watching.waitFor((message) => message.approval?.state === "pending", "the approval");
    const approvalId = asked.approval?.id ?? "";
    expect(asked.approval?.options.map((option) => option.kind)).toContain("reject_once");

    const resolved = await watching.waitFor(
      (message) => message.approval?.id === approvalId && message.approval.state !== "pending",
      "the approval's expiry",
    );
    expect(resolved.approval).toMatchObject({ state: "rejected", reason: "expired", option_id: "no-once" });
    expect(resolved.tool_call_id).toBe(asked.tool_call_id);
    // The agent got the refusal and finished its turn with it.
    expect(await watching.turnEnd(runId)).toMatchObject({ type: "done", content: "end_turn" });
    const texts = watching.messages.filter((message) => message.run_id === runId && message.type === "text");
    expect(texts.map((message) => message.content)).toEqual(["permission: no-once"]);

    await until(async () => (await details(session)).pending_approvals.length === 0, 10_000, "no pending approval");
    await until(async () => (await details(session)).status === "idle", 10_000, "status idle");
    const inbox = await world.api("/api/v1/approvals");
    expect(inbox.status).toBe(200);
    expect(inbox.body.approvals.map((approval: { id: string }) => approval.id)).not.toContain(approvalId);

    const late = await world.api(`${sessionsPath}/${session}/approvals/${approvalId}`, {
      body: { decision: "allow" },
    });
    expect(late.status, JSON.stringify(late.body)).toBe(409);
    expect(late.body.code).toBe("CONFLICT");
    expect(late.body.detail).toMatch(/already resolved/);
    watching.close();
  }, 60_000);

  it("cancels a turn past its timeout; an agent that stops on cancel leaves the session idle", async () => {
    const session = await startSession();
    const watching = await viewer(session);
    const runId = await send(session, "scenario:slow");
    const end = await watching.turnEnd(runId, 60_000);
    expect(end.type).toBe("error");
    expect(end.error).toMatch(
      new RegExp(
        `the turn timed out after ${TURN_TIMEOUT_SECONDS} s \\(agentSessions.turnTimeoutSeconds.*was cancelled`,
      ),
    );
    // Exactly one end: no `done` besides the error.
    const ends = watching.messages.filter(
      (message) => message.run_id === runId && ["done", "error"].includes(message.type),
    );
    expect(ends).toEqual([end]);
    await until(async () => (await details(session)).status === "idle", 10_000, "status idle");
    expect((await details(session)).stop_reason).toBe("cancelled");

    const next = await send(session, "hello");
    expect(await watching.turnEnd(next)).toMatchObject({ type: "done", content: "end_turn" });
    expect(watching.messages.map((message) => message.seq)).toEqual(watching.messages.map((_, index) => index + 1));
    watching.close();
  }, 90_000);

  it("stops a hung agent that ignores the cancel: an error, interrupted, the next message restores it", async () => {
    const session = await startSession();
    const watching = await viewer(session);
    const runId = await send(session, "scenario:hang");
    const end = await watching.turnEnd(runId, 60_000);
    expect(end.type).toBe("error");
    expect(end.error).toMatch(/^fixture: the turn timed out after \d+ s .* did not stop on cancel; it was killed/);
    const ends = watching.messages.filter(
      (message) => message.run_id === runId && ["done", "error"].includes(message.type),
    );
    expect(ends).toEqual([end]);
    await until(async () => (await details(session)).status === "interrupted", 10_000, "status interrupted");
    expect((await details(session)).error).toMatch(/timed out/);

    // The next message starts the agent again and resumes the conversation, numbering on.
    const next = await send(session, "hello");
    const done = await watching.turnEnd(next, 60_000);
    expect(done).toMatchObject({ type: "done", content: "end_turn" });
    const texts = watching.messages.filter((message) => message.run_id === next && message.type === "text");
    expect(texts.map((message) => message.content)).toEqual(["Hello from the fixture agent."]);
    expect(watching.messages.map((message) => message.seq)).toEqual(watching.messages.map((_, index) => index + 1));
    await until(async () => (await details(session)).status === "idle", 10_000, "status idle after the restore");
    watching.close();
  }, 90_000);
});
