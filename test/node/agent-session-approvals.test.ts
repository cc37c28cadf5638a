import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { AgentMessage } from "../../shared/schemas/agent-sessions";
import { type AgentSessionWorld, agentSessionWorld } from "../support/acp-fixture";
import { until } from "../support/until";
import { kaiError } from "../support/workspace-handlers";

/**
 * Permission requests of a real (scripted) ACP agent: answered by kind, first answer wins,
 * expiry rejects, a cancelled turn cancels them, and the agent may withdraw its own.
 */

let world: AgentSessionWorld;

beforeAll(async () => {
  world = await agentSessionWorld("acp-approvals", { approvalTimeoutMs: 60_000 });
});

afterEach(async () => {
  await world.sessions.stopAll();
});

afterAll(async () => {
  await world?.cleanup();
});

/** Starts a turn whose agent asks for permission, and returns the asking message once it came. */
async function asked(w: AgentSessionWorld, scenario = "permission") {
  const sessionId = await w.start();
  const runId = await w.prompt(sessionId, `scenario:${scenario}`);
  const pending = () => w.messages(sessionId).find((m) => m.approval?.state === "pending");
  await until(() => pending() !== undefined, 20_000, "the permission request");
  return { sessionId, runId, message: pending() as AgentMessage };
}

function resolution(w: AgentSessionWorld, sessionId: string): AgentMessage | undefined {
  return w.messages(sessionId).find((m) => m.approval && m.approval.state !== "pending");
}

function textOf(w: AgentSessionWorld, sessionId: string): string[] {
  return w.messages(sessionId).flatMap((m) => (m.type === "text" && m.content ? [m.content] : []));
}

describe("approvals", () => {
  it("asks with all four option kinds at once, is answered by kind, and a second answer is CONFLICT", async () => {
    const { sessionId, runId, message } = await asked(world);
    const approval = message.approval;
    expect(message).toMatchObject({ type: "tool_use", tool_call_id: "p1", run_id: runId });
    expect(approval?.options.map((o) => o.kind)).toEqual([
      "allow_once",
      "allow_always",
      "reject_once",
      "reject_always",
    ]);
    expect(Date.parse(approval?.expires_at ?? "")).toBeGreaterThan(Date.now());
    await until(() => world.states(sessionId).at(-1)?.status === "waiting_for_approval", 5000, "waiting");
    const id = approval?.id ?? "";
    const answer = await world.send("agentSession.answer", { sessionId, approvalId: id, kind: "allow_always" });
    expect(answer).toEqual({ state: "allowed", optionId: "yes-always" });
    const twice = await kaiError(world.send("agentSession.answer", { sessionId, approvalId: id, kind: "reject_once" }));
    expect(twice.code).toBe("CONFLICT");
    expect(twice.message).toContain("already resolved");
    expect(await world.turnEnd(sessionId, runId)).toMatchObject({ type: "done", content: "end_turn" });
    expect(resolution(world, sessionId)).toMatchObject({
      type: "tool_use",
      tool_call_id: "p1",
      approval: { id, state: "allowed", option_id: "yes-always", reason: "answered" },
    });
    expect(textOf(world, sessionId)).toEqual(["permission: yes-always"]);
    const statuses = world.states(sessionId).map((s) => s.status);
    expect(statuses.slice(-3)).toEqual(["waiting_for_approval", "running", "idle"]);
  });

  it("rejects by kind too", async () => {
    const { sessionId, runId, message } = await asked(world);
    const approvalId = message.approval?.id ?? "";
    const answer = await world.send("agentSession.answer", { sessionId, approvalId, kind: "reject_always" });
    expect(answer).toEqual({ state: "rejected", optionId: "no-always" });
    await world.turnEnd(sessionId, runId);
    expect(textOf(world, sessionId)).toEqual(["permission: no-always"]);
  });

  it("expires as a reject option, never an allow", async () => {
    const expiring = await agentSessionWorld("acp-expiry", { approvalTimeoutMs: 300 });
    try {
      const { sessionId, runId } = await asked(expiring);
      await expiring.turnEnd(sessionId, runId);
      expect(resolution(expiring, sessionId)?.approval).toMatchObject({
        state: "rejected",
        option_id: "no-once",
        reason: "expired",
      });
      expect(textOf(expiring, sessionId)).toEqual(["permission: no-once"]);
    } finally {
      await expiring.cleanup();
    }
  });

  it("is answered cancelled when the turn is cancelled, and the turn ends with done cancelled", async () => {
    const { sessionId, runId, message } = await asked(world);
    expect(await world.send("agentSession.cancel", { sessionId })).toEqual({ cancelled: true });
    expect(await world.turnEnd(sessionId, runId)).toMatchObject({ type: "done", content: "cancelled" });
    expect(resolution(world, sessionId)?.approval).toMatchObject({
      id: message.approval?.id,
      state: "cancelled",
      reason: "turn_cancelled",
    });
    expect(resolution(world, sessionId)?.approval?.option_id).toBeUndefined();
    const late = await kaiError(
      world.send("agentSession.answer", { sessionId, approvalId: message.approval?.id ?? "", kind: "allow_once" }),
    );
    expect(late.code).toBe("CONFLICT");
  });

  it("resolves cancelled, reason withdrawn, when the agent withdraws its request", async () => {
    const { sessionId, runId } = await asked(world, "withdraw");
    await world.turnEnd(sessionId, runId);
    expect(resolution(world, sessionId)?.approval).toMatchObject({ state: "cancelled", reason: "withdrawn" });
    expect(textOf(world, sessionId)).toHaveLength(1);
  });
});
