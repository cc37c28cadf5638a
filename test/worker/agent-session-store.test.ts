import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import {
  applyState,
  countLiveSessions,
  createSession,
  deleteSettledApprovals,
  findOwnSession,
  listApprovals,
  listSessions,
  liveSessionsOfHost,
  MAX_PAGE_SIZE,
  markEnded,
  markFailed,
  markHostSessionsDisconnected,
  recordApproval,
  sessionsEndedBefore,
  settleApproval,
  toApprovalResource,
  toSessionResource,
} from "../../edge/agent-sessions/store";
import { database } from "../../edge/db/client";
import { users } from "../../edge/db/schema";
import { enrollHost } from "../../edge/hosts/hosts";
import { addWorkspace } from "../../edge/workspaces/workspaces";
import { KaiError } from "../../shared/errors";
import type { AgentMessage, ApprovalInfo } from "../../shared/schemas/agent-sessions";
import { unique } from "./helpers";

const db = () => database(env.DB);
const firstPage = { limit: 50, offset: 0 };

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
type Owner = Awaited<ReturnType<typeof owner>>;

const newSession = (who: Owner, workspaceId = who.workspaceId) =>
  createSession(db(), { ...who, workspaceId, profile: null });

/** A message that asks, and its approval. */
function asking(expiresAt: Date): { message: AgentMessage; approval: ApprovalInfo } {
  const approval: ApprovalInfo = {
    id: crypto.randomUUID(),
    state: "pending",
    options: [{ id: "allow", name: "Allow", kind: "allow_once" }],
    expires_at: expiresAt.toISOString(),
  };
  const message: AgentMessage = {
    type: "tool_use",
    seq: 3,
    tool: "Bash",
    content: "Run npm test",
    tool_call_id: "call-1",
    approval,
  };
  return { message, approval };
}
const inAnHour = () => new Date(Date.now() + 3_600_000);

async function expectNotFound(promise: Promise<unknown>) {
  const error = await promise.catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(KaiError);
  expect(error).toMatchObject({ code: "NOT_FOUND" });
}

describe("agent sessions in D1", () => {
  it("creates a session starting, finds it for its owner only, and shows it as the API does", async () => {
    const alice = await owner();
    const bob = await owner();
    const session = await newSession(alice);
    expect(session).toMatchObject({ status: "starting", lastSeq: 0, profile: null, endedAt: null });
    expect(await findOwnSession(db(), alice.userId, session.id)).toEqual(session);
    await expectNotFound(findOwnSession(db(), bob.userId, session.id));
    await expectNotFound(findOwnSession(db(), alice.userId, crypto.randomUUID()));

    const started = await applyState(db(), session.id, { status: "idle", lastSeq: 0, usage: { used: 5 } }, "claude");
    expect(toSessionResource(started ?? session)).toEqual({
      id: session.id,
      workspace_id: alice.workspaceId,
      host_id: alice.hostId,
      profile: "claude",
      status: "idle",
      title: null,
      last_seq: 0,
      stop_reason: null,
      error: null,
      usage: { used: 5 },
      created_at: session.createdAt.toISOString(),
      updated_at: expect.any(String),
      ended_at: null,
    });
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
    await applyState(db(), elsewhere.id, { status: "idle", lastSeq: 4 });

    const newestFirst = [...created, elsewhere]
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (b.id > a.id ? 1 : -1))
      .map((row) => row.id);
    const all = await listSessions(db(), alice.userId, firstPage);
    expect(all.map((row) => row.id)).toEqual(newestFirst);
    const inOther = await listSessions(db(), alice.userId, { workspaceId: other.id, ...firstPage });
    expect(inOther.map((row) => row.id)).toEqual([elsewhere.id]);
    const idle = await listSessions(db(), alice.userId, { status: "idle", ...firstPage });
    expect(idle.map((row) => row.id)).toEqual([elsewhere.id]);
    const paged = await listSessions(db(), alice.userId, { limit: 2, offset: 2 });
    expect(paged.map((row) => row.id)).toEqual(newestFirst.slice(2));
    expect(await listSessions(db(), (await owner()).userId, firstPage)).toEqual([]);

    for (let n = 0; n < MAX_PAGE_SIZE + 2; n++) await newSession(alice);
    expect(await listSessions(db(), alice.userId, { limit: 10_000, offset: 0 })).toHaveLength(MAX_PAGE_SIZE);
    expect(await countLiveSessions(db(), alice.userId)).toBe(MAX_PAGE_SIZE + 6);
  });

  it("writes transitions: keeps what a state omits, clears the error, raises last_seq only, sets endedAt", async () => {
    const alice = await owner();
    const session = await newSession(alice);
    const running = await applyState(db(), session.id, {
      status: "running",
      lastSeq: 12,
      title: "Fix the tests",
      usage: { used: 1200, size: 200_000 },
      acpSessionId: "acp-1",
    });
    expect(running).toMatchObject({ status: "running", lastSeq: 12, title: "Fix the tests", acpSessionId: "acp-1" });
    expect(JSON.parse(running?.usageJson ?? "null")).toEqual({ used: 1200, size: 200_000 });

    // A restarted kai-agent knows nothing of the title; a stale report has an older last seq.
    const interrupted = await applyState(db(), session.id, {
      status: "interrupted",
      lastSeq: 9,
      error: "exit 1: out of memory",
    });
    expect(interrupted).toMatchObject({ lastSeq: 12, title: "Fix the tests", error: "exit 1: out of memory" });
    expect(interrupted?.endedAt).toBeNull();
    const idle = await applyState(db(), session.id, { status: "idle", lastSeq: 20, stopReason: "end_turn" });
    expect(idle).toMatchObject({ lastSeq: 20, error: null, stopReason: "end_turn" });

    const endedAt = new Date("2026-12-01T05:00:00Z");
    await markEnded(db(), session.id, { status: "idle", lastSeq: 21 }, endedAt);
    expect(await findOwnSession(db(), alice.userId, session.id)).toMatchObject({
      status: "ended",
      lastSeq: 21,
      endedAt,
    });
    const later = new Date("2026-12-01T06:00:00Z");
    await markEnded(db(), session.id, undefined, later);
    expect(await findOwnSession(db(), alice.userId, session.id)).toMatchObject({ endedAt, updatedAt: later });
    expect(await countLiveSessions(db(), alice.userId)).toBe(0);

    const broken = await newSession(alice);
    await markFailed(db(), broken.id, "no profile named codex on this host");
    expect(await findOwnSession(db(), alice.userId, broken.id)).toMatchObject({
      status: "failed",
      error: "no profile named codex on this host",
      endedAt: expect.any(Date),
    });
  });

  it("lets a host write its own sessions only, and marks them disconnected when it leaves", async () => {
    const alice = await owner();
    const mallory = await owner();
    const [running, waiting, interrupted, ended] = [
      await newSession(alice),
      await newSession(alice),
      await newSession(alice),
      await newSession(alice),
    ];
    if (!running || !waiting || !interrupted || !ended) throw new Error("four sessions");
    expect(await applyState(db(), running.id, { status: "failed", lastSeq: 99 }, undefined, mallory.hostId)).toBe(
      undefined,
    );
    await applyState(db(), running.id, { status: "running", lastSeq: 1 }, undefined, alice.hostId);
    await applyState(db(), waiting.id, { status: "waiting_for_approval", lastSeq: 1 }, undefined, alice.hostId);
    await applyState(db(), interrupted.id, { status: "interrupted", lastSeq: 1 });
    await markEnded(db(), ended.id);
    expect((await liveSessionsOfHost(db(), alice.hostId)).sort()).toEqual(
      [running.id, waiting.id, interrupted.id].sort(),
    );

    await markHostSessionsDisconnected(db(), alice.hostId);
    const statuses = Object.fromEntries(
      (await listSessions(db(), alice.userId, firstPage)).map((row) => [row.id, row.status]),
    );
    expect(statuses).toEqual({
      [running.id]: "disconnected",
      [waiting.id]: "disconnected",
      [interrupted.id]: "interrupted",
      [ended.id]: "ended",
    });
  });
});

describe("agent approvals in D1: the inbox", () => {
  it("records an approval once, lists the user's pending ones oldest first, and settles them as reported", async () => {
    const alice = await owner();
    const bob = await owner();
    const session = await newSession(alice);
    const owned = { userId: alice.userId, hostId: alice.hostId, sessionId: session.id };
    const first = asking(inAnHour());
    await recordApproval(db(), { ...owned, ...first });
    await recordApproval(db(), { ...owned, ...first });
    const second = asking(inAnHour());
    await recordApproval(db(), { ...owned, ...second });
    // Expired while nobody looked: not in the inbox, though the agent has not reported it yet.
    await recordApproval(db(), { ...owned, ...asking(new Date(Date.now() - 1_000)) });

    const inbox = await listApprovals(db(), alice.userId, firstPage);
    expect(inbox.map((row) => row.id).sort()).toEqual([first.approval.id, second.approval.id].sort());
    const shown = inbox.find((row) => row.id === first.approval.id);
    expect(shown && toApprovalResource(shown)).toEqual({
      id: first.approval.id,
      session_id: session.id,
      host_id: alice.hostId,
      tool_call_id: "call-1",
      tool: "Bash",
      title: "Run npm test",
      options: first.approval.options,
      state: "pending",
      option_id: null,
      reason: null,
      created_at: expect.any(String),
      expires_at: first.approval.expires_at,
      resolved_at: null,
    });
    expect(await listApprovals(db(), bob.userId, firstPage)).toEqual([]);
    expect(await listApprovals(db(), alice.userId, { sessionId: crypto.randomUUID(), ...firstPage })).toEqual([]);
    expect(await listApprovals(db(), alice.userId, { sessionId: session.id, ...firstPage })).toHaveLength(2);

    // Another host cannot settle it; its own host can.
    const allowed: ApprovalInfo = { ...first.approval, state: "allowed", option_id: "allow", reason: "answered" };
    await settleApproval(db(), allowed, bob.hostId);
    expect(await listApprovals(db(), alice.userId, firstPage)).toHaveLength(2);
    await settleApproval(db(), allowed, alice.hostId);
    const after = await listApprovals(db(), alice.userId, firstPage);
    expect(after.map((row) => row.id)).toEqual([second.approval.id]);
  });

  it("pages the inbox with a cap", async () => {
    const alice = await owner();
    const session = await newSession(alice);
    const owned = { userId: alice.userId, hostId: alice.hostId, sessionId: session.id };
    for (let n = 0; n < MAX_PAGE_SIZE + 1; n++) await recordApproval(db(), { ...owned, ...asking(inAnHour()) });
    const page = await listApprovals(db(), alice.userId, { limit: 500, offset: 0 });
    expect(page).toHaveLength(MAX_PAGE_SIZE);
    const rest = await listApprovals(db(), alice.userId, { limit: 500, offset: MAX_PAGE_SIZE });
    expect(rest).toHaveLength(1);
    expect(page.map((row) => row.id)).not.toContain(rest[0]?.id);
  });
});

describe("retention in D1", () => {
  const daysAgo = (days: number) => new Date(Date.now() - days * 86_400_000);

  it("names the sessions of a host that ended before a time, among the ones asked about", async () => {
    const alice = await owner();
    const [long, recent, failed, live] = [await newSession(alice), await newSession(alice), await newSession(alice)]
      .concat(await newSession(alice))
      .map((row) => row.id);
    await markEnded(db(), long as string, undefined, daysAgo(40));
    await markEnded(db(), recent as string, undefined, daysAgo(2));
    await markFailed(db(), failed as string, "it crashed", daysAgo(31));
    const asked = [long, recent, failed, live] as string[];
    expect((await sessionsEndedBefore(db(), alice.hostId, asked, daysAgo(30))).sort()).toEqual([long, failed].sort());
    // Another host's object cannot name them, and an empty question costs no query.
    const bob = await owner();
    expect(await sessionsEndedBefore(db(), bob.hostId, asked, daysAgo(30))).toEqual([]);
    expect(await sessionsEndedBefore(db(), alice.hostId, [], daysAgo(30))).toEqual([]);
    // More ids than one D1 statement binds.
    const many = [...Array.from({ length: 150 }, () => crypto.randomUUID()), long as string];
    expect(await sessionsEndedBefore(db(), alice.hostId, many, daysAgo(30))).toEqual([long]);
  });

  it("deletes the host's approvals settled before a time, and pending ones long expired, nothing else", async () => {
    const alice = await owner();
    const session = await newSession(alice);
    const record = async (expiresAt: Date) => {
      const asked = asking(expiresAt);
      await recordApproval(db(), { ...alice, sessionId: session.id, ...asked });
      return asked.approval;
    };
    const oldSettled = await record(daysAgo(40));
    await settleApproval(db(), { ...oldSettled, state: "allowed", reason: "answered" }, alice.hostId, daysAgo(40));
    const recentSettled = await record(daysAgo(3));
    await settleApproval(db(), { ...recentSettled, state: "cancelled", reason: "withdrawn" }, alice.hostId, daysAgo(3));
    const longExpired = await record(daysAgo(35));
    const open = await record(inAnHour());
    const bob = await owner();
    const bobs = asking(daysAgo(40));
    const bobSession = await newSession(bob);
    await recordApproval(db(), { ...bob, sessionId: bobSession.id, ...bobs });
    await settleApproval(db(), { ...bobs.approval, state: "rejected", reason: "expired" }, bob.hostId, daysAgo(40));

    expect(await deleteSettledApprovals(db(), alice, daysAgo(30))).toBe(2);
    const left = await env.DB.prepare("SELECT id FROM agent_approvals WHERE id IN (?, ?, ?, ?, ?)")
      .bind(oldSettled.id, recentSettled.id, longExpired.id, open.id, bobs.approval.id)
      .all<{ id: string }>();
    expect(left.results.map((row) => row.id).sort()).toEqual([recentSettled.id, open.id, bobs.approval.id].sort());
  });
});
