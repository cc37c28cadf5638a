import { randomUUID } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { agentSessionHandlers } from "../../agent/handlers/agent-sessions";
import { AgentSessions } from "../../agent/runtime/acp/agent-sessions";
import type { AgentMessage } from "../../shared/schemas/agent-sessions";
import { type AgentSessionWorld, agentSessionWorld, fixtureProfile } from "../support/acp-fixture";
import { until } from "../support/until";
import { call, kaiError } from "../support/workspace-handlers";

/**
 * Agent sessions end to end: the manager behind the real handlers, the scripted ACP agent
 * (test/fixtures/acp-agent.ts) as a real child process for every session.
 */

let world: AgentSessionWorld;

beforeAll(async () => {
  world = await agentSessionWorld("acp", { turnTimeoutMs: 60_000 });
});

// Each test's agents stop after it: the host's bound of live sessions holds in tests too.
afterEach(async () => {
  await world.sessions.stopAll();
});

afterAll(async () => {
  await world?.cleanup();
});

function expectGapFree(messages: AgentMessage[], from = 1): void {
  expect(messages.map((m) => m.seq)).toEqual(messages.map((_, i) => from + i));
}

function pidGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
}

describe("a turn", () => {
  it("answers a plain prompt with text, then done, numbered from 1", async () => {
    const sessionId = await world.start();
    const runId = await world.prompt(sessionId, "hi");
    const done = await world.turnEnd(sessionId, runId);
    expect(done).toMatchObject({ type: "done", content: "end_turn" });
    const messages = world.messages(sessionId);
    expect(messages.map((m) => [m.type, m.content])).toEqual([
      ["text", "Hello from the fixture agent."],
      ["done", "end_turn"],
    ]);
    expect(messages.every((m) => m.run_id === runId)).toBe(true);
    expectGapFree(messages);
    await until(() => world.states(sessionId).at(-1)?.status === "idle", 5000, "idle after the turn");
    expect(world.states(sessionId).map((s) => s.status)).toEqual(["starting", "idle", "running", "idle"]);
  });

  it("maps every update kind: thinking, coalesced tool calls, results; usage/title/mode on the state", async () => {
    const sessionId = await world.start();
    const runId = await world.prompt(sessionId, "scenario:all");
    await until(() => world.messages(sessionId).some((m) => m.approval?.state === "pending"), 20_000, "the approval");
    const asked = world.messages(sessionId).find((m) => m.approval?.state === "pending");
    await world.send("agentSession.answer", {
      sessionId,
      approvalId: asked?.approval?.id ?? "",
      kind: "allow_once",
    });
    await world.turnEnd(sessionId, runId);
    const messages = world.messages(sessionId);
    expectGapFree(messages);
    const plain = messages.map(({ type, tool, input, content, output, error, tool_call_id, approval }) => ({
      type,
      ...(tool ? { tool } : {}),
      ...(input ? { input } : {}),
      ...(content ? { content } : {}),
      ...(output ? { output } : {}),
      ...(error ? { error } : {}),
      ...(tool_call_id ? { tool_call_id } : {}),
      ...(approval ? { approval: approval.state } : {}),
    }));
    expect(plain).toEqual([
      { type: "thinking", content: "Let me look." },
      { type: "tool_use", tool: "execute", input: { command: "ls" }, content: "Run ls", tool_call_id: "t1" },
      {
        type: "tool_use",
        tool: "execute",
        input: { command: "ls" },
        content: "Run ls",
        tool_call_id: "t1",
        approval: "pending",
      },
      {
        type: "tool_use",
        tool: "execute",
        input: { command: "ls" },
        content: "Run ls",
        tool_call_id: "t1",
        approval: "allowed",
      },
      { type: "tool_result", tool: "execute", output: "file-a\nfile-b", tool_call_id: "t1" },
      { type: "tool_use", tool: "read", input: { path: "x" }, content: "Read x", tool_call_id: "t2" },
      { type: "tool_result", tool: "read", error: "no such file", tool_call_id: "t2" },
      { type: "text", content: "chose yes-once" },
      { type: "done", content: "end_turn" },
    ]);
    const state = world.states(sessionId).at(-1);
    expect(state).toMatchObject({
      title: "Fixture title",
      mode: "plan",
      usage: { used: 1200, size: 200000, cost: { amount: 0.01, currency: "USD" } },
    });
    // A state event only when something besides lastSeq changed: never two alike in a row.
    const states = world.states(sessionId).map(({ lastSeq: _, ...rest }) => JSON.stringify(rest));
    expect(states.every((state, index) => index === 0 || state !== states[index - 1])).toBe(true);
  });

  it("ends refusal and max_tokens with done, a thrown error with error (idle, the error kept), then goes on", async () => {
    const sessionId = await world.start();
    for (const reason of ["refusal", "max_tokens"]) {
      const runId = await world.prompt(sessionId, `scenario:${reason}`);
      expect(await world.turnEnd(sessionId, runId)).toMatchObject({ type: "done", content: reason });
    }
    const failing = await world.prompt(sessionId, "scenario:throw");
    const error = await world.turnEnd(sessionId, failing);
    expect(error.type).toBe("error");
    expect(error.error).toContain("scripted failure");
    await until(() => world.states(sessionId).at(-1)?.status === "idle", 5000, "idle");
    expect(world.states(sessionId).at(-1)).toMatchObject({
      stopReason: "error",
      error: expect.stringContaining("scripted"),
    });
    const next = await world.prompt(sessionId, "hi");
    expect(await world.turnEnd(sessionId, next)).toMatchObject({ type: "done", content: "end_turn" });
    expectGapFree(world.messages(sessionId));
  });

  it("survives a garbage line on stdout and an unknown update kind", async () => {
    const sessionId = await world.start();
    for (const scenario of ["garbage", "unknown"]) {
      const runId = await world.prompt(sessionId, `scenario:${scenario}`);
      expect(await world.turnEnd(sessionId, runId)).toMatchObject({ type: "done", content: "end_turn" });
      const text = world.messages(sessionId).filter((m) => m.run_id === runId && m.type === "text");
      expect(text.map((m) => m.content)).toEqual([`after ${scenario}`]);
    }
  });

  it("echoes an 8,000-character prompt whole", async () => {
    const sessionId = await world.start();
    const prompt = `scenario:echo ${"é".repeat(7986)}`;
    expect(prompt.length).toBe(8000);
    const runId = await world.prompt(sessionId, prompt);
    await world.turnEnd(sessionId, runId);
    expect(world.messages(sessionId).find((m) => m.type === "text")?.content).toBe(prompt);
  });

  it("runs one turn at a time: a second prompt is CONFLICT; cancel ends the turn with done cancelled", async () => {
    const sessionId = await world.start();
    const runId = await world.prompt(sessionId, "scenario:slow");
    await until(() => world.messages(sessionId).some((m) => m.type === "text"), 20_000, "the first chunk");
    const conflict = await kaiError(world.prompt(sessionId, "another"));
    expect(conflict.code).toBe("CONFLICT");
    expect(conflict.message).toContain("a turn is already running");
    expect(await world.send("agentSession.cancel", { sessionId })).toEqual({ cancelled: true });
    expect(await world.turnEnd(sessionId, runId)).toMatchObject({ type: "done", content: "cancelled" });
    expect(await world.send("agentSession.cancel", { sessionId })).toEqual({ cancelled: false });
    await until(() => world.states(sessionId).at(-1)?.status === "idle", 5000, "idle after cancel");
  });

  it("takes 10,000 chunks and a 1 MB tool output with nothing lost, the output cut and flagged", async () => {
    const sessionId = await world.start();
    const runId = await world.prompt(sessionId, "scenario:flood");
    await world.turnEnd(sessionId, runId, 60_000);
    const messages = world.messages(sessionId);
    expectGapFree(messages);
    const text = messages.filter((m) => m.type === "text").map((m) => m.content);
    expect(text).toEqual(Array.from({ length: 10_000 }, (_, i) => `${i}\n`));
    const result = messages.find((m) => m.type === "tool_result");
    expect(result?.truncated).toBe(true);
    expect(result?.output?.length).toBe(64 * 1024);
    // A burst leaves in batches (one event, one commit on the edge), each within its bounds.
    const batches = world.events.flatMap((event) =>
      event.kind === "messages" && event.sessionId === sessionId ? [event.messages.length] : [],
    );
    expect(batches.length).toBeGreaterThan(0);
    expect(batches.length).toBeLessThan(messages.length / 2);
    expect(Math.max(...batches)).toBeLessThanOrEqual(256);
  });
});

describe("the process", () => {
  it("a crash mid-turn is an error with the exit code and stderr tail, and the session is interrupted", async () => {
    const sessionId = await world.start();
    const runId = await world.prompt(sessionId, "scenario:crash");
    const error = await world.turnEnd(sessionId, runId);
    expect(error.type).toBe("error");
    expect(error.error).toContain("exit code 3");
    expect(error.error).toContain("segfault in scripted crash");
    await until(() => world.states(sessionId).at(-1)?.status === "interrupted", 5000, "interrupted");
    expect(world.states(sessionId).at(-1)?.error).toContain("exit code 3");
    const gone = await kaiError(world.prompt(sessionId, "hi"));
    expect(gone.code).toBe("CONFLICT");
    expect(gone.message).toContain("start it again with restore");
  });

  it("an agent that dies between turns leaves the session interrupted, saying how it ended", async () => {
    const sessionId = await world.start();
    process.kill(world.sessions.pidOf(sessionId) ?? 0, "SIGKILL");
    await until(() => world.states(sessionId).at(-1)?.status === "interrupted", 5000, "interrupted");
    expect(world.states(sessionId).at(-1)?.error).toContain("fixture: the agent process exited; killed by SIGKILL");
    expect(world.messages(sessionId)).toEqual([]);
  });

  it("a hung turn times out, is cancelled, and the agent that ignores the cancel is stopped", async () => {
    const quick = await agentSessionWorld("acp-hang", { turnTimeoutMs: 500, cancelGraceMs: 500, stopGraceMs: 500 });
    try {
      const sessionId = await quick.start();
      const pid = quick.sessions.pidOf(sessionId) ?? 0;
      const runId = await quick.prompt(sessionId, "scenario:hang");
      const error = await quick.turnEnd(sessionId, runId);
      expect(error.type).toBe("error");
      expect(error.error).toContain("timed out");
      await until(() => quick.states(sessionId).at(-1)?.status === "interrupted", 5000, "interrupted");
      await until(() => pidGone(pid), 5000, "the hung agent gone");
    } finally {
      await quick.cleanup();
    }
  });

  it("a turn that times out and stops on cancel is an error, and the session is idle for the next turn", async () => {
    const quick = await agentSessionWorld("acp-timeout", { turnTimeoutMs: 300, cancelGraceMs: 10_000 });
    try {
      const sessionId = await quick.start();
      const pid = quick.sessions.pidOf(sessionId);
      const runId = await quick.prompt(sessionId, "scenario:slow");
      const error = await quick.turnEnd(sessionId, runId);
      expect(error.type).toBe("error");
      expect(error.error).toMatch(/timed out after 300 ms \(agentSessions.turnTimeoutSeconds .*\) and was cancelled/);
      await until(() => quick.states(sessionId).at(-1)?.status === "idle", 5000, "idle");
      expect(quick.states(sessionId).at(-1)).toMatchObject({ stopReason: "cancelled" });
      expect(quick.sessions.pidOf(sessionId)).toBe(pid);
      const next = await quick.prompt(sessionId, "hi");
      expect(await quick.turnEnd(sessionId, next)).toMatchObject({ type: "done", content: "end_turn" });
      expectGapFree(quick.messages(sessionId));
    } finally {
      await quick.cleanup();
    }
  });

  it("close stops the process (SIGKILL after SIGTERM for one that ignores it) and the session ends", async () => {
    const stubborn = await agentSessionWorld("acp-close", {
      stopGraceMs: 300,
      env: { ACP_FIXTURE_IGNORE_SIGTERM: "1" },
    });
    try {
      const sessionId = await stubborn.start();
      const pid = stubborn.sessions.pidOf(sessionId) ?? 0;
      expect(pidGone(pid)).toBe(false);
      const runId = await stubborn.prompt(sessionId, "scenario:slow");
      const { state } = await stubborn.send("agentSession.close", { sessionId });
      expect(state.status).toBe("ended");
      expect(pidGone(pid)).toBe(true);
      expect(await stubborn.turnEnd(sessionId, runId)).toMatchObject({ type: "done", content: "cancelled" });
    } finally {
      await stubborn.cleanup();
    }
  });

  it("a missing command, or one that dies at start, is AGENT_PROCESS_FAILED naming the profile", async () => {
    const missing = { ...fixtureProfile(), name: "ghost", command: "ghost-acp", executable: "/nonexistent/ghost-acp" };
    const dying = fixtureProfile({ ACP_FIXTURE_CRASH_AT_START: "1" }, "dying");
    const sessions = new AgentSessions({ profiles: [missing, dying] });
    const ctx = world.ctx({ agentSessions: sessions });
    for (const [profile, says] of [
      ["ghost", "not found"],
      ["dying", "no model configured"],
    ]) {
      const error = await kaiError(
        call(agentSessionHandlers, "agentSession.start", { root: world.root, sessionId: randomUUID(), profile }, ctx),
      );
      expect(error.code).toBe("AGENT_PROCESS_FAILED");
      expect(error.message).toContain(`${profile}:`);
      expect(error.message).toContain(says);
    }
  });

  it("refuses an unknown profile (NOT_FOUND), a root outside the policy, and a session too many", async () => {
    const unknown = await kaiError(
      world.send("agentSession.start", { root: world.root, sessionId: randomUUID(), profile: "nope" }),
    );
    expect(unknown.code).toBe("NOT_FOUND");
    expect(unknown.message).toContain("no agent profile 'nope' on this host");
    const outside = await kaiError(world.send("agentSession.start", { root: world.outside, sessionId: randomUUID() }));
    expect(outside.code).toBe("PERMISSION_DENIED");
    const one = await agentSessionWorld("acp-bound", { maxLiveSessions: 1 });
    try {
      await one.start();
      const full = await kaiError(one.start());
      expect(full.code).toBe("CONFLICT");
      expect(full.message).toContain("close one before starting another");
    } finally {
      await one.cleanup();
    }
  });
});

describe("restore and sync", () => {
  for (const [how, env] of [
    ["resume", {}],
    ["load", { ACP_FIXTURE_NO_RESUME: "1" }],
  ] as const) {
    it(`restores through session/${how}, numbering on from lastSeq, no history re-sent`, async () => {
      const restoring = await agentSessionWorld(`acp-${how}`, { env });
      try {
        const sessionId = await restoring.start();
        const first = await restoring.prompt(sessionId, "scenario:history");
        await restoring.turnEnd(sessionId, first);
        const before = restoring.messages(sessionId);
        expect(before.map((m) => m.content)).toEqual(["turns before this: 0", "end_turn"]);
        const { state } = await restoring.send("agentSession.close", { sessionId });
        const acpSessionId = state.acpSessionId ?? "";
        await restoring.start({ acpSessionId, lastSeq: state.lastSeq }, sessionId);
        const second = await restoring.prompt(sessionId, "scenario:history");
        await restoring.turnEnd(sessionId, second);
        const after = restoring.messages(sessionId).slice(before.length);
        expect(after.map((m) => [m.seq, m.content])).toEqual([
          [state.lastSeq + 1, "turns before this: 1"],
          [state.lastSeq + 2, "end_turn"],
        ]);
      } finally {
        await restoring.cleanup();
      }
    });
  }

  it("refuses to restore a session the agent does not know, saying to start a new one", async () => {
    const error = await kaiError(world.start({ acpSessionId: "no-such-acp-session", lastSeq: 3 }));
    expect(error.code).toBe("AGENT_PROCESS_FAILED");
    expect(error.message).toContain("could not restore its session no-such-acp-session");
    expect(error.message).toContain("start a new session");
  });

  it("re-sends what the edge missed while offline, reports what is gone, and knows no unknown session", async () => {
    const sessionId = await world.start();
    const first = await world.prompt(sessionId, "hi");
    await world.turnEnd(sessionId, first);
    const seen = world.messages(sessionId).length;
    world.detach();
    const offline = await world.prompt(sessionId, "scenario:echo while offline");
    // Nothing reaches the edge while detached; the turn ends all the same.
    await until(() => idle(sessionId), 20_000, "idle");
    expect(world.messages(sessionId).length).toBe(seen);
    world.attach();
    const { sessions } = await world.send("agentSession.sync", {
      sessions: [
        { sessionId, lastSeq: seen },
        { sessionId: randomUUID(), lastSeq: 7 },
      ],
    });
    expect(sessions[0]).toMatchObject({ sessionId, state: { status: "idle", lastSeq: seen + 2 } });
    expect(sessions[0]?.lost).toBeUndefined();
    expect(sessions[1]?.state).toEqual({ status: "interrupted", lastSeq: 7 });
    const resent = world.messages(sessionId).slice(seen);
    expect(resent.map((m) => [m.seq, m.type, m.run_id])).toEqual([
      [seen + 1, "text", offline],
      [seen + 2, "done", offline],
    ]);

    world.detach();
    const flood = await world.prompt(sessionId, "scenario:flood");
    await until(() => idle(sessionId), 60_000, "the flood's end");
    world.attach();
    const synced = await world.send("agentSession.sync", { sessions: [{ sessionId, lastSeq: seen + 2 }] });
    const lost = synced.sessions[0]?.lost;
    const newest = synced.sessions[0]?.state.lastSeq ?? 0;
    expect(lost?.from).toBe(seen + 3);
    const after = world.messages(sessionId).slice(seen + 2);
    expect(after[0]?.seq).toBe((lost?.to ?? 0) + 1);
    expect(after.at(-1)).toMatchObject({ seq: newest, type: "done", run_id: flood });
    expectGapFree(after, after[0]?.seq);
  });
});

function idle(sessionId: string): boolean {
  return (
    world.sessions.sync({ sessions: [{ sessionId, lastSeq: Number.MAX_SAFE_INTEGER }] }).sessions[0]?.state.status ===
    "idle"
  );
}
