import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import {
  applyAgentSessionState,
  createAgentSession,
  findOwnAgentSession,
  listAgentSessions,
  listPendingApprovals,
  MAX_PAGE_SIZE,
  recordApproval,
  settleApproval,
} from "../../edge/agent-sessions/store";
import { database } from "../../edge/db/client";
import { users } from "../../edge/db/schema";
import { enrollHost } from "../../edge/hosts/hosts";
import { addWorkspace } from "../../edge/workspaces/workspaces";
import { KaiError } from "../../shared/errors";
import type { AgentMessage, ApprovalInfo } from "../../shared/schemas/agent-sessions";
import { unique } from "./helpers";

const db = () => database(env.DB);

/** A user with one host and one workspace on it, written straight to D1. */
async function owner() {
  const userId = crypto.randomUUID();
  const name = unique("u");
  await db()
    .insert(users)
    .values({ id: userId, email: `${name}@example.com`, username: name, passwordHash: "x" });
  const { row: host } = await enrollHost(db(), userId, unique("h"));
  const workspace = await addWorkspace(db(), { userId, hostId: host.id, name: unique("w"), hostPath: "/w" });
  return { userId, hostId: host.id, workspaceId: workspace.id };
}

const newSession = (who: Awaited<ReturnType<typeof owner>>, workspaceId = who.workspaceId) =>
  createAgentSession(db(), { id: crypto.randomUUID(), ...who, workspaceId, profile: "claude" });

const asking = (expiresAt: Date): AgentMessage => ({
  type: "tool_use",
  seq: 3,
  tool: "Bash",
  content: "Run npm test",
  tool_call_id: "call-1",
  approval: {
    id: crypto.randomUUID(),
    state: "pending",
    options: [{ id: "allow", name: "Allow", kind: "allow_once" }],
    expires_at: expiresAt.toISOString(),
  },
});
const inAnHour = () => new Date(Date.now() + 3_600_000);

async function expectNotFound(promise: Promise<unknown>) {
  const error = await promise.catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(KaiError);
  expect(error).toMatchObject({ code: "NOT_FOUND" });
}

describe("agent sessions in D1", () => {
  it("creates a session starting, finds it for its owner only", async () => {
    const alice = await owner();
    const bob = await owner();
    const session = await newSession(alice);
    expect(session).toMatchObject({ status: "starting", lastSeq: 0, profile: "claude", endedAt: null });
    expect(await findOwnAgentSession(db(), alice.userId, session.id)).toEqual(session);
    await expectNotFound(findOwnAgentSession(db(), bob.userId, session.id));
    await expectNotFound(findOwnAgentSession(db(), alice.userId, crypto.randomUUID()));
  });

  it("lists newest first, by workspace and status, a page at most MAX_PAGE_SIZE long", async () => {
    const alice = await owner();
    const other = await addWorkspace(db(), {
      userId: alice.userId,
      hostId: alice.hostId,
      name: unique("w"),
      hostPath: "/o",
    });
    const created = [];
    for (let n = 0; n < 3; n++) created.push(await newSession(alice));
    const elsewhere = await newSession(alice, other.id);
    await applyAgentSessionState(db(), alice.hostId, elsewhere.id, { status: "idle", lastSeq: 4 });

    const all = await listAgentSessions(db(), alice.userId, { limit: 50, offset: 0 });
    expect(all.total).toBe(4);
    expect(all.rows.map((row) => row.id)).toEqual(
      [...created, elsewhere]
        .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (b.id > a.id ? 1 : -1))
        .map((row) => row.id),
    );
    const inOther = await listAgentSessions(db(), alice.userId, { workspaceId: other.id, limit: 50, offset: 0 });
    expect(inOther.rows.map((row) => row.id)).toEqual([elsewhere.id]);
    const idle = await listAgentSessions(db(), alice.userId, { status: "idle", limit: 50, offset: 0 });
    expect(idle).toMatchObject({ total: 1, rows: [{ id: elsewhere.id }] });
    const paged = await listAgentSessions(db(), alice.userId, { limit: 2, offset: 2 });
    expect(paged.rows.map((row) => row.id)).toEqual(all.rows.slice(2).map((row) => row.id));
    expect((await listAgentSessions(db(), (await owner()).userId, { limit: 50, offset: 0 })).total).toBe(0);

    for (let n = 0; n < MAX_PAGE_SIZE + 2; n++) await newSession(alice);
    const capped = await listAgentSessions(db(), alice.userId, { limit: 10_000, offset: 0 });
    expect(capped.rows).toHaveLength(MAX_PAGE_SIZE);
    expect(capped.total).toBe(MAX_PAGE_SIZE + 6);
  });

  it("writes transitions: keeps what a state omits, clears the error, raises last_seq only, sets endedAt", async () => {
    const alice = await owner();
    const session = await newSession(alice);
    const running = await applyAgentSessionState(db(), alice.hostId, session.id, {
      status: "running",
      lastSeq: 12,
      title: "Fix the tests",
      usage: { used: 1200, size: 200_000 },
      acpSessionId: "acp-1",
    });
    expect(running).toMatchObject({ status: "running", lastSeq: 12, title: "Fix the tests", acpSessionId: "acp-1" });
    expect(JSON.parse(running?.usageJson ?? "null")).toEqual({ used: 1200, size: 200_000 });

    // A restarted kai-agent knows nothing of the title; a stale report has an older last seq.
    const interrupted = await applyAgentSessionState(db(), alice.hostId, session.id, {
      status: "interrupted",
      lastSeq: 9,
      error: "exit 1: out of memory",
    });
    expect(interrupted).toMatchObject({
      lastSeq: 12,
      title: "Fix the tests",
      error: "exit 1: out of memory",
      endedAt: null,
    });
    const idle = await applyAgentSessionState(db(), alice.hostId, session.id, {
      status: "idle",
      lastSeq: 20,
      stopReason: "end_turn",
    });
    expect(idle).toMatchObject({ lastSeq: 20, error: null, stopReason: "end_turn" });

    const endedAt = new Date("2026-12-01T05:00:00Z");
    const ended = await applyAgentSessionState(
      db(),
      alice.hostId,
      session.id,
      { status: "ended", lastSeq: 21 },
      endedAt,
    );
    expect(ended).toMatchObject({ status: "ended", endedAt, updatedAt: endedAt });
    const later = new Date("2026-12-01T06:00:00Z");
    expect(
      await applyAgentSessionState(db(), alice.hostId, session.id, { status: "ended", lastSeq: 21 }, later),
    ).toMatchObject({
      endedAt,
      updatedAt: later,
    });
  });

  it("lets no host write another host's session", async () => {
    const alice = await owner();
    const mallory = await owner();
    const session = await newSession(alice);
    expect(
      await applyAgentSessionState(db(), mallory.hostId, session.id, { status: "failed", lastSeq: 99 }),
    ).toBeUndefined();
    expect(await findOwnAgentSession(db(), alice.userId, session.id)).toMatchObject({ status: "starting", lastSeq: 0 });
  });
});

describe("agent approvals in D1: the inbox", () => {
  it("records an approval once, lists the user's pending ones oldest first, and settles them as reported", async () => {
    const alice = await owner();
    const bob = await owner();
    const session = await newSession(alice);
    const first = asking(inAnHour());
    await recordApproval(db(), session, first);
    await recordApproval(db(), session, first);
    await recordApproval(db(), session, { type: "text", seq: 4, content: "no approval here" });
    const second = asking(inAnHour());
    await recordApproval(db(), session, second);
    // Expired while nobody looked: not in the inbox, though the agent has not reported it yet.
    await recordApproval(db(), session, asking(new Date(Date.now() - 1_000)));

    const inbox = await listPendingApprovals(db(), alice.userId, { limit: 50, offset: 0 });
    expect(inbox.total).toBe(2);
    expect(inbox.rows.map((row) => row.id).sort()).toEqual([first.approval?.id, second.approval?.id].sort());
    expect(inbox.rows.find((row) => row.id === first.approval?.id)).toMatchObject({
      sessionId: session.id,
      hostId: alice.hostId,
      toolCallId: "call-1",
      tool: "Bash",
      title: "Run npm test",
      state: "pending",
      expiresAt: new Date(first.approval?.expires_at ?? 0),
    });
    expect(JSON.parse(inbox.rows[0]?.optionsJson ?? "[]")).toEqual(first.approval?.options);
    expect((await listPendingApprovals(db(), bob.userId, { limit: 50, offset: 0 })).total).toBe(0);

    const approval: ApprovalInfo | undefined = first.approval;
    if (!approval) throw new Error("the message asks");
    // Another host cannot settle it; its own host can.
    await settleApproval(db(), bob.hostId, { ...approval, state: "allowed", option_id: "allow", reason: "answered" });
    expect((await listPendingApprovals(db(), alice.userId, { limit: 50, offset: 0 })).total).toBe(2);
    await settleApproval(db(), alice.hostId, { ...approval, state: "allowed", option_id: "allow", reason: "answered" });
    const after = await listPendingApprovals(db(), alice.userId, { limit: 1, offset: 0 });
    expect(after).toMatchObject({ total: 1, rows: [{ id: second.approval?.id }] });
  });

  it("pages the inbox with a cap", async () => {
    const alice = await owner();
    const session = await newSession(alice);
    for (let n = 0; n < MAX_PAGE_SIZE + 1; n++) await recordApproval(db(), session, asking(inAnHour()));
    const page = await listPendingApprovals(db(), alice.userId, { limit: 500, offset: 0 });
    expect(page.rows).toHaveLength(MAX_PAGE_SIZE);
    expect(page.total).toBe(MAX_PAGE_SIZE + 1);
    const rest = await listPendingApprovals(db(), alice.userId, { limit: 500, offset: MAX_PAGE_SIZE });
    expect(rest.rows).toHaveLength(1);
    expect(rest.rows[0]?.id).not.toBe(page.rows.at(-1)?.id);
  });
});
