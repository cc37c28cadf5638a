import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { EventRing } from "../../edge/user-feed/event-ring";
import { FEED_CREDENTIAL_HEADER, FEED_SINCE_HEADER, MAX_FEED_VIEWERS } from "../../edge/user-feed/user-feed";
import { AGENT_SESSION_TOPIC, CLOSE_CODES } from "../../shared/protocol";
import type { AgentMessage } from "../../shared/schemas/agent-sessions";
import { type FeedEvent, type UserFeedFrame, userFeedFrame } from "../../shared/schemas/user-events";
import { connectAgent, enrolledHost, type RawSocket, record } from "./agent-socket";
import { call, expectProblem, registerUser } from "./helpers";

/**
 * A user's live event feed on its real Durable Object: events numbered into a bounded ring
 * in its SQLite, replayed after `since`, then live; stats kept as one snapshot per host.
 */

const feedOf = (userId = `feed-${crypto.randomUUID()}`) => env.USER_FEED.get(env.USER_FEED.idFromName(userId));
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, n) => from + n);
const docker = (n: number): FeedEvent => ({
  type: "host.docker",
  hostId: "h1",
  at: new Date().toISOString(),
  docker: { ok: true, version: `v${n}` },
});
const stats = (hostId: string, running: number) => ({
  type: "host.stats" as const,
  hostId,
  at: new Date().toISOString(),
  stats: {
    services: { total: running + 1, running, stopped: 1 },
    resources: { avgCpu: 1.5, avgMemory: 2.5, totalMemoryUsage: 1024 },
    health: { status: "healthy" as const, warnings: 0, errors: 0 },
  },
});

/** Opens a viewer on the feed object as the Worker does; every frame must be a UserFeedFrame. */
async function open(feed: ReturnType<typeof feedOf>, since?: number, credential?: string): Promise<RawSocket> {
  const headers: Record<string, string> = { Upgrade: "websocket" };
  if (since !== undefined) headers[FEED_SINCE_HEADER] = String(since);
  if (credential) headers[FEED_CREDENTIAL_HEADER] = credential;
  const response = await feed.fetch("https://feed.internal/", { headers });
  expect(response.status).toBe(101);
  return record(response);
}

const framesOf = (viewer: RawSocket) => viewer.frames.map((frame) => userFeedFrame.parse(frame));
const seqsOf = (viewer: RawSocket) =>
  framesOf(viewer).flatMap((frame) =>
    "seq" in frame && frame.type !== "live" && frame.type !== "reset" ? [frame.seq] : [],
  );
const live = (viewer: RawSocket) => viewer.next((frame) => frame.type === "live");

describe("EventRing: a user's numbered events in SQLite", () => {
  it("numbers from 1, replays after a seq, and keeps the last N, never reusing a number", async () => {
    await runInDurableObject(feedOf(), (_instance, state) => {
      state.storage.sql.exec("DROP TABLE IF EXISTS feed_events");
      state.storage.sql.exec("DROP TABLE IF EXISTS feed_seq");
      const ring = new EventRing(state.storage.sql, { events: 5, ageMs: 60_000 });
      expect(ring.latest()).toBe(0);
      expect(ring.replay(0)).toEqual({ events: [], latest: 0 });
      for (const n of range(1, 8)) expect(ring.append(docker(n), 1_000).seq).toBe(n);
      const seqsAfter = (since: number) => {
        const replay = ring.replay(since);
        return "events" in replay ? replay.events.map((event) => event.seq) : replay;
      };
      expect(seqsAfter(3)).toEqual([4, 5, 6, 7, 8]);
      expect(seqsAfter(6)).toEqual([7, 8]);
      expect(seqsAfter(8)).toEqual([]);
      // 1..3 were trimmed: a viewer that saw only up to 2 has lost 3, and is told to reload.
      expect(seqsAfter(2)).toEqual({ reset: "expired", latest: 8 });
      // A seq this feed never gave out (a stale cursor from another feed) is not served either.
      expect(seqsAfter(9)).toEqual({ reset: "unknown", latest: 8 });
    });
  });

  it("drops events past their age, and the numbering goes on after the ring empties", async () => {
    await runInDurableObject(feedOf(), (_instance, state) => {
      const ring = new EventRing(state.storage.sql, { events: 100, ageMs: 1_000 });
      ring.append(docker(1), 1_000);
      ring.append(docker(2), 1_500);
      // At 2,600 both are older than 1 s: only the new one is kept.
      expect(ring.append(docker(3), 2_600).seq).toBe(3);
      expect(ring.replay(1)).toEqual({ reset: "expired", latest: 3 });
      const kept = ring.replay(2);
      expect("events" in kept && kept.events.map((event) => event.seq)).toEqual([3]);
    });
  });
});

describe("UserFeed: replay, then live, to every viewer", () => {
  it("gives a late viewer the replay then the live events, nothing lost, repeated or reordered", async () => {
    const feed = feedOf();
    const first = await open(feed, 0);
    await live(first);
    for (const n of range(1, 5)) expect(await feed.publish(docker(n))).toBe(n);

    // The host's object publishes one event after another; the late viewer connects meanwhile.
    const publishing = (async () => {
      for (const n of range(6, 40)) expect(await feed.publish(docker(n))).toBe(n);
    })();
    const late = await open(feed, 2);
    await publishing;

    await first.next((frame) => frame.seq === 40);
    await late.next((frame) => frame.seq === 40);
    expect(seqsOf(first)).toEqual(range(1, 40));
    expect(seqsOf(late)).toEqual(range(3, 40));
    // The live marker comes right after the replay and names its last event.
    const lateFrames = framesOf(late);
    const marker = lateFrames.findIndex((frame) => frame.type === "live");
    const lastReplayed = late.frames[marker - 1] as { seq: number };
    expect(lateFrames[marker]).toEqual({ type: "live", seq: lastReplayed.seq });

    // A reconnect from the last seq it got: nothing again, and then the next event.
    const back = await open(feed, 40);
    expect(await live(back)).toEqual({ type: "live", seq: 40 });
    await feed.publish(docker(41));
    await back.next((frame) => frame.seq === 41);
    expect(seqsOf(back)).toEqual([41]);
  });

  it("without since, sends only the live marker and what comes next", async () => {
    const feed = feedOf();
    await feed.publish(docker(1));
    const viewer = await open(feed);
    expect(await live(viewer)).toEqual({ type: "live", seq: 1 });
    await feed.publish(docker(2));
    await viewer.next((frame) => frame.seq === 2);
    expect(seqsOf(viewer)).toEqual([2]);
  });

  it("answers a since ahead of the feed with a reset first frame, then goes live", async () => {
    const feed = feedOf();
    await feed.publish(docker(1));
    const viewer = await open(feed, 7);
    await live(viewer);
    const [reset, marker] = framesOf(viewer);
    expect(reset).toMatchObject({ type: "reset", reason: "unknown", seq: 1 });
    expect(marker).toEqual({ type: "live", seq: 1 });
  });

  it("keeps only the latest stats of each host, sent on connecting; drops them while nobody watches", async () => {
    const feed = feedOf();
    expect(await feed.publishStats(stats("h1", 1))).toEqual({ wanted: false, epoch: 0 });
    const watcher = await open(feed);
    await live(watcher);
    expect(await feed.publishStats(stats("h1", 2))).toEqual({ wanted: true, epoch: 1 });
    expect(await feed.publishStats(stats("h1", 3))).toMatchObject({ wanted: true });
    expect(await feed.publishStats(stats("h2", 7))).toMatchObject({ wanted: true });
    await watcher.next((frame) => frame.hostId === "h2");

    const newcomer = await open(feed);
    await newcomer.next((frame) => frame.hostId === "h2");
    const snapshots = framesOf(newcomer).filter(
      (frame): frame is Extract<UserFeedFrame, { type: "host.stats" }> => frame.type === "host.stats",
    );
    expect(snapshots.map((frame) => [frame.hostId, frame.stats.services.running])).toEqual([
      ["h1", 3],
      ["h2", 7],
    ]);
    // Stats are not numbered: the ring is untouched.
    expect(await feed.publish(docker(1))).toBe(1);
  });

  it(`refuses viewer ${MAX_FEED_VIEWERS + 1} with 429, and closes the viewers of a revoked credential`, async () => {
    const feed = feedOf();
    const viewers = [];
    for (const n of range(1, MAX_FEED_VIEWERS))
      viewers.push(await open(feed, undefined, n === 1 ? "pat:gone" : undefined));
    const refused = await feed.fetch("https://feed.internal/", { headers: { Upgrade: "websocket" } });
    expect(refused.status).toBe(429);
    expect(await refused.json()).toMatchObject({ code: "RATE_LIMITED" });

    expect(await feed.closeViewers("pat:gone")).toBe(1);
    const [revoked] = viewers;
    expect((await revoked?.closed)?.code).toBe(CLOSE_CODES.CREDENTIAL_REVOKED);
    expect(revoked?.frames.at(-1)).toMatchObject({ type: "error", code: "UNAUTHORIZED" });
  });
});

describe("WS /api/v1/ws/events", () => {
  const upgrade = { Upgrade: "websocket" };

  it("streams the caller's own host going online and offline, and nothing of another user's", async () => {
    const owner = await enrolledHost();
    const stranger = await enrolledHost();
    const mine = record(await call("/api/v1/ws/events?since=0", { token: owner.user.accessToken, headers: upgrade }));
    const theirs = record(await call("/api/v1/ws/events", { token: stranger.user.accessToken, headers: upgrade }));
    await live(mine);
    await live(theirs);

    const agent = await connectAgent(owner);
    const online = await mine.next((frame) => frame.type === "host.online");
    expect(online).toMatchObject({ seq: 1, hostId: owner.host.id, agentVersion: "test", docker: { ok: true } });
    agent.socket.close(1000, "bye");
    const offline = await mine.next((frame) => frame.type === "host.offline");
    expect(offline).toMatchObject({ seq: 2, hostId: owner.host.id });

    // The stranger's own host comes online: that is all the stranger's feed ever carries.
    await connectAgent(stranger);
    await theirs.next((frame) => frame.type === "host.online");
    expect(framesOf(theirs).filter((frame) => frame.type !== "live")).toEqual([
      expect.objectContaining({ type: "host.online", hostId: stranger.host.id, seq: 1 }),
    ]);
  });

  it("carries agent-session changes: an approval asked and settled, and the status", async () => {
    const owner = await enrolledHost();
    const agent = await connectAgent(owner);
    const feed = record(await call("/api/v1/ws/events", { token: owner.user.accessToken, headers: upgrade }));
    await live(feed);
    const sessionId = crypto.randomUUID();
    const approvalId = crypto.randomUUID();
    const asking = (seq: number, state: "pending" | "allowed"): AgentMessage => ({
      type: "tool_use",
      seq,
      tool: "Bash",
      content: "npm test",
      tool_call_id: "call-1",
      approval: {
        id: approvalId,
        state,
        options: [{ id: "yes", name: "Allow", kind: "allow_once" }],
        expires_at: new Date(Date.now() + 60_000).toISOString(),
        ...(state === "allowed" ? { option_id: "yes" } : {}),
      },
    });
    const send = (data: unknown) =>
      agent.socket.send(JSON.stringify({ type: "event", topic: AGENT_SESSION_TOPIC, seq: 0, data }));
    // One at a time, as each is handled: the relay may take a frame's successor before it is done with it.
    send({ kind: "message", sessionId, message: asking(1, "pending") });
    await feed.next((frame) => frame.event === "session.approval_requested");
    send({ kind: "message", sessionId, message: asking(2, "allowed") });
    await feed.next((frame) => frame.event === "session.approval_resolved");
    send({ kind: "state", sessionId, state: { status: "ended", lastSeq: 2 } });
    await feed.next((frame) => frame.event === "session.ended");
    const sessionEvents = framesOf(feed).flatMap((frame) =>
      frame.type === "session" ? [[frame.event, frame.sessionId, frame.hostId]] : [],
    );
    expect(sessionEvents).toEqual(
      ["session.approval_requested", "session.approval_resolved", "session.status", "session.ended"].map((event) => [
        event,
        sessionId,
        owner.host.id,
      ]),
    );
    expect(
      framesOf(feed).find((frame) => frame.type === "session" && frame.event === "session.approval_resolved"),
    ).toMatchObject({ detail: { approvalId, state: "allowed" } });
  });

  it(`answers a caller's feed number ${MAX_FEED_VIEWERS + 1} with a 429 problem`, async () => {
    const user = await registerUser();
    const open = () => call("/api/v1/ws/events", { token: user.accessToken, headers: upgrade });
    const sockets = [];
    for (const _ of range(1, MAX_FEED_VIEWERS)) sockets.push(record(await open()));
    await expectProblem(await open(), 429, "RATE_LIMITED");
    // Another user's feeds are their own: this user's full feed does not limit them.
    const other = await registerUser();
    expect((await call("/api/v1/ws/events", { token: other.accessToken, headers: upgrade })).status).toBe(101);
  });

  it("is in the OpenAPI document, with the frames' schema", async () => {
    const doc = (await (await call("/api/openapi.json")).json()) as {
      paths: Record<string, unknown>;
      components: { schemas: Record<string, unknown> };
    };
    expect(doc.paths["/api/v1/ws/events"]).toBeDefined();
    expect(doc.components.schemas.UserFeedFrame).toBeDefined();
  });

  it("refuses a plain GET, a since that is not a seq, and a caller without credentials", async () => {
    const user = await registerUser();
    await expectProblem(await call("/api/v1/ws/events", { token: user.accessToken }), 400, "BAD_REQUEST");
    for (const since of ["abc", "-1", "1.5"]) {
      const answer = await call(`/api/v1/ws/events?since=${since}`, { token: user.accessToken, headers: upgrade });
      await expectProblem(answer, 422, "VALIDATION_ERROR");
    }
    await expectProblem(await call("/api/v1/ws/events", { headers: upgrade }), 401, "UNAUTHORIZED");
  });
});
