import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { database } from "../../edge/db/client";
import { AGENT_TAG, type AgentAttachment, readAgent } from "../../edge/host-relay/attachment";
import { HostStatsSwitch } from "../../edge/host-relay/host-stats-switch";
import { onlineHostsPage } from "../../edge/user-feed/online-hosts";
import { HOST_TRIES, STATS_GRACE_MS, StatsDemand, WALK_RETRY_MS } from "../../edge/user-feed/stats-demand";
import { userFeed } from "../../edge/user-feed/stub";
import { HOST_STATS_ON_DEMAND, HOST_STATS_TOPIC } from "../../shared/protocol";
import { connectAgent, type EnrolledHost, enrolledHost, hostRelay, type RawSocket, record } from "./agent-socket";
import { call } from "./helpers";

/**
 * Hosts send stats only while their user's feed has a viewer: the feed's answer to a snapshot
 * stops them, its first viewer starts the online ones again, one page of D1 at a time.
 */

const snapshot = (running: number) => ({
  services: { total: running, running, stopped: 0 },
  resources: { avgCpu: 0, avgMemory: 0, totalMemoryUsage: 0 },
  health: { status: "healthy", warnings: 0, errors: 0 },
});
const publishStats = (agent: RawSocket, running: number) =>
  agent.socket.send(JSON.stringify({ type: "event", topic: HOST_STATS_TOPIC, seq: running, data: snapshot(running) }));
const statsFrames = (agent: RawSocket) => agent.frames.filter((frame) => (frame as { type: string }).type === "stats");
const upgrade = { Upgrade: "websocket" };

/** Another host of the same user, enrolled with that user's token. */
async function anotherHost(owner: EnrolledHost): Promise<EnrolledHost> {
  const name = `h-${crypto.randomUUID().slice(0, 8)}`;
  const enrolled = await call("/api/hosts", { body: { name }, token: owner.user.accessToken });
  const { host, token } = ((await enrolled.json()) as { data: { host: EnrolledHost["host"]; token: string } }).data;
  return { user: owner.user, host, token };
}

describe("StatsDemand: whether a user's hosts should send stats", () => {
  it("starts the hosts on a first viewer only, keeps them for the grace, then answers unwanted", async () => {
    const feed = env.USER_FEED.get(env.USER_FEED.idFromName(`demand-${crypto.randomUUID()}`));
    await runInDurableObject(feed, (_instance, state) => {
      const demand = new StatsDemand(state.storage.kv, 1_000);
      // Nobody ever watched: the first snapshot of a connecting host is unwanted.
      expect(demand.answer(false, 0)).toEqual({ wanted: false, epoch: 0 });
      expect(demand.viewerJoined()).toBe(true);
      expect(demand.walk()).toEqual({ from: 0, epoch: 1 });
      // Another viewer while that walk is due re-arms it (its alarm may be gone), same walk, same epoch.
      expect(demand.viewerJoined()).toBe(true);
      expect(demand.walk()).toEqual({ from: 0, epoch: 1 });
      demand.walked(1, null);
      // A second viewer (another tab) once the walk is done asks no host again.
      expect(demand.viewerJoined()).toBe(false);
      expect(demand.answer(true, 10)).toEqual({ wanted: true, epoch: 1 });
      demand.lastViewerLeft(100);
      expect(demand.answer(false, 1_099)).toEqual({ wanted: true, epoch: 1 });
      // A reload within the grace: still sending, nobody to tell.
      expect(demand.viewerJoined()).toBe(false);
      demand.lastViewerLeft(2_000);
      expect(demand.answer(false, 3_000)).toEqual({ wanted: false, epoch: 1 });
      // The answer stopped a host, so the next viewer walks again, under a newer epoch.
      expect(demand.viewerJoined()).toBe(true);
      demand.walked(1, 42);
      expect(demand.walk()).toEqual({ from: 0, epoch: 2 });
      demand.walked(2, 42);
      expect(demand.walk()).toEqual({ from: 42, epoch: 2 });
      demand.walked(2, null);
      expect(demand.walk()).toBeUndefined();
    });
    expect(STATS_GRACE_MS).toBeGreaterThan(0);
  });

  it("keeps a failed page of the walk due, retrying it later each time, until it is passed or stopped", async () => {
    const feed = env.USER_FEED.get(env.USER_FEED.idFromName(`demand-${crypto.randomUUID()}`));
    await runInDurableObject(feed, (_instance, state) => {
      const demand = new StatsDemand(state.storage.kv, 1_000);
      expect(demand.viewerJoined()).toBe(true);
      demand.walked(1, 7);
      // The page from 7 failed three times in a row: it stays due, each retry waits twice as long.
      expect([demand.walkFailed(1), demand.walkFailed(1), demand.walkFailed(1)]).toEqual([
        WALK_RETRY_MS,
        2 * WALK_RETRY_MS,
        4 * WALK_RETRY_MS,
      ]);
      expect(demand.walk()).toEqual({ from: 7, epoch: 1 });
      // The page is read again only once its backoff has passed, whatever wakes the object before.
      const failedAt = Date.now();
      expect(demand.walkFailed(1, failedAt)).toBe(8 * WALK_RETRY_MS);
      expect(demand.pageDue(failedAt + 8 * WALK_RETRY_MS - 1)).toBeUndefined();
      expect(demand.nextAlarm(failedAt)).toBe(failedAt + 8 * WALK_RETRY_MS);
      expect(demand.pageDue(failedAt + 8 * WALK_RETRY_MS)).toEqual({ from: 7, epoch: 1 });
      // A viewer coming meanwhile arms the walk again rather than taking it for done.
      expect(demand.viewerJoined()).toBe(true);
      // Passed at last: the next page's first failure waits the least again.
      demand.walked(1, 9);
      expect(demand.walkFailed(1)).toBe(WALK_RETRY_MS);
      // A failure of a walk that is not the one due (an older epoch) changes nothing.
      expect(demand.walkFailed(0)).toBeUndefined();
      // Stopped (nobody watches): nothing is due, nothing to retry.
      demand.lastViewerLeft(0);
      expect(demand.answer(false, 5_000)).toEqual({ wanted: false, epoch: 1 });
      expect(demand.walkFailed(1)).toBeUndefined();
      expect(demand.walk()).toBeUndefined();
    });
  });
});

describe("StatsDemand: hosts of the walk whose call failed", () => {
  it("retries each failed host on its own with backoff, gives up after its tries, and goes on meanwhile", async () => {
    const feed = env.USER_FEED.get(env.USER_FEED.idFromName(`demand-${crypto.randomUUID()}`));
    await runInDurableObject(feed, (_instance, state) => {
      const demand = new StatsDemand(state.storage.kv, 1_000);
      expect(demand.viewerJoined()).toBe(true);
      // The first page: "a" was told, "b" failed. The page is passed, "b" is due a second later.
      expect(demand.hostsCalled(1, ["a"], ["b"], 0)).toEqual([]);
      demand.walked(1, 7);
      expect(demand.pageDue()).toEqual({ from: 7, epoch: 1 });
      expect(demand.retriesDue(WALK_RETRY_MS - 1)).toBeUndefined();
      expect(demand.retriesDue(WALK_RETRY_MS)).toEqual({ hostIds: ["b"], epoch: 1 });
      // The walk's next page is due at once, before b's retry.
      expect(demand.nextAlarm(10)).toBe(10);
      demand.walked(1, null);
      expect(demand.nextAlarm(10)).toBe(WALK_RETRY_MS);
      // b fails again and again: each wait doubles; the last of its tries gives it up.
      let now = WALK_RETRY_MS;
      for (let tries = 2; tries < HOST_TRIES; tries++) {
        expect(demand.hostsCalled(1, [], ["b"], now)).toEqual([]);
        expect(demand.nextAlarm(now)).toBe(now + WALK_RETRY_MS * 2 ** (tries - 1));
        now += WALK_RETRY_MS * 2 ** (tries - 1);
      }
      expect(demand.hostsCalled(1, [], ["b"], now)).toEqual(["b"]);
      expect(demand.retriesDue(Number.MAX_SAFE_INTEGER)).toBeUndefined();
      expect(demand.nextAlarm(now)).toBeUndefined();
      // A host told on its retry is done; a stopped walk keeps none and takes none.
      demand.hostsCalled(1, [], ["c"], now);
      demand.hostsCalled(1, ["c"], [], now);
      expect(demand.retriesDue(Number.MAX_SAFE_INTEGER)).toBeUndefined();
      demand.hostsCalled(1, [], ["d"], now);
      demand.lastViewerLeft(now);
      expect(demand.answer(false, now + 5_000).wanted).toBe(false);
      expect(demand.retriesDue(Number.MAX_SAFE_INTEGER)).toBeUndefined();
      expect(demand.hostsCalled(1, [], ["e"], now)).toEqual([]);
      expect(demand.nextAlarm(now)).toBeUndefined();
    });
  });

  it("holds the walk's next page while a page's worth of hosts wait for a retry", async () => {
    const feed = env.USER_FEED.get(env.USER_FEED.idFromName(`demand-${crypto.randomUUID()}`));
    await runInDurableObject(feed, (_instance, state) => {
      const demand = new StatsDemand(state.storage.kv);
      demand.viewerJoined();
      const page = Array.from({ length: 100 }, (_, n) => `h${n}`);
      demand.hostsCalled(1, [], page, 0);
      demand.walked(1, 100);
      expect(demand.walk()).toEqual({ from: 100, epoch: 1 });
      expect(demand.pageDue()).toBeUndefined();
      // The alarm waits for the retries, not for the held page.
      expect(demand.nextAlarm(0)).toBe(WALK_RETRY_MS);
      demand.hostsCalled(1, ["h0"], [], 0);
      expect(demand.pageDue()).toEqual({ from: 100, epoch: 1 });
    });
  });
});

describe("onlineHostsPage: the walk over a user's online hosts", () => {
  it("pages through exactly the user's online hosts, each once, by index", async () => {
    const owner = await enrolledHost();
    const hosts = [owner, ...(await Promise.all([1, 2, 3, 4, 5].map(() => anotherHost(owner))))];
    const offline = hosts.pop() as EnrolledHost;
    const agents = [];
    for (const host of hosts) agents.push(await connectAgent(host));
    // Someone else's online host is never in this user's pages.
    const stranger = await enrolledHost();
    await connectAgent(stranger);

    const seen: string[] = [];
    let from: number | null = 0;
    let pages = 0;
    while (from !== null) {
      const page: Awaited<ReturnType<typeof onlineHostsPage>> = await onlineHostsPage(
        database(env.DB),
        owner.user.id,
        from,
        2,
      );
      seen.push(...page.hostIds);
      from = page.next;
      pages += 1;
    }
    expect(seen.toSorted()).toEqual(hosts.map((host) => host.host.id).toSorted());
    expect(seen).not.toContain(offline.host.id);
    // 5 hosts in pages of 2: 2, 2, 1.
    expect(pages).toBe(3);
  });
});

describe("stats on demand, with the real feed and host objects", () => {
  it("stops a host nobody watches, starts every online one for a first viewer, and spares old agents", async () => {
    const owner = await enrolledHost();
    const second = await anotherHost(owner);
    const older = await anotherHost(owner);
    const agents = [
      await connectAgent(owner, [HOST_STATS_ON_DEMAND]),
      await connectAgent(second, [HOST_STATS_ON_DEMAND]),
    ];
    const old = await connectAgent(older);

    // Each host's first snapshot (sent on connecting) is answered "unwanted": nobody watches.
    for (const agent of [...agents, old]) publishStats(agent, 1);
    for (const agent of agents) await agent.next((frame) => frame.type === "stats" && frame.send === false);

    // The first viewer: every online host that can be told is told to start, and sends at once.
    const viewer = record(await call("/api/v1/ws/events", { token: owner.user.accessToken, headers: upgrade }));
    await viewer.next((frame) => frame.type === "live");
    for (const agent of agents) await agent.next((frame) => frame.type === "stats" && frame.send === true);
    for (const agent of agents) publishStats(agent, 2);
    await viewer.next((frame) => frame.type === "host.stats" && frame.hostId === second.host.id);
    await viewer.next((frame) => frame.type === "host.stats" && frame.hostId === owner.host.id);

    // A second tab asks no host again. Its walk (if it started one) would run in the feed's
    // alarm: run whatever alarm is pending now, then check that no walk is due and the epoch
    // is still the first viewer's, before looking at what the agents were sent.
    const feed = userFeed(env, owner.user.id);
    const tab = record(await call("/api/v1/ws/events", { token: owner.user.accessToken, headers: upgrade }));
    await tab.next((frame) => frame.type === "live");
    await runDurableObjectAlarm(feed);
    await runInDurableObject(feed, (_instance, state) => {
      const demand = new StatsDemand(state.storage.kv);
      expect(demand.walk()).toBeUndefined();
      expect(demand.answer(true)).toEqual({ wanted: true, epoch: 1 });
    });
    // The older agent was never sent a frame it does not know; its snapshot reaches the viewer
    // (after the stats frames the agents were sent, had any walk told them again).
    publishStats(old, 3);
    await viewer.next((frame) => frame.type === "host.stats" && frame.hostId === older.host.id);
    for (const agent of agents)
      expect(statsFrames(agent)).toEqual([
        { type: "stats", send: false },
        { type: "stats", send: true },
      ]);
    expect(statsFrames(old)).toEqual([]);
  });

  it("retries a page of the walk that failed, and a viewer re-arms a walk whose alarm was dropped", async () => {
    const owner = await enrolledHost();
    const agent = await connectAgent(owner, [HOST_STATS_ON_DEMAND]);
    publishStats(agent, 1);
    await agent.next((frame) => frame.type === "stats" && frame.send === false);
    const feed = userFeed(env, owner.user.id);

    // A first viewer's walk (epoch 1) whose read of D1 throws: the user id kept for it is one
    // D1 cannot bind. Set up in the feed's storage, so no alarm runs the walk before it is broken.
    await runInDurableObject(feed, async (_instance, state) => {
      state.storage.kv.put("user", { unbindable: true });
      expect(new StatsDemand(state.storage.kv).viewerJoined()).toBe(true);
      await state.storage.setAlarm(Date.now() + 3_600_000);
    });
    expect(await runDurableObjectAlarm(feed)).toBe(true);
    // The page stays due and the alarm is armed again for a retry.
    await runInDurableObject(feed, (_instance, state) => {
      expect(new StatsDemand(state.storage.kv).walk()).toEqual({ from: 0, epoch: 1 });
    });
    await expect.poll(() => runInDurableObject(feed, (_instance, state) => state.storage.getAlarm())).not.toBeNull();
    await runInDurableObject(feed, (_instance, state) => state.storage.kv.put("user", owner.user.id));
    // The retry (run now, or already run by the platform) tells the host.
    await runDurableObjectAlarm(feed);
    await agent.next((frame) => frame.type === "stats" && frame.send === true);

    // A walk still due whose alarm is gone (the platform dropped it): the next viewer arms it.
    const second = await connectAgent(await anotherHost(owner), [HOST_STATS_ON_DEMAND]);
    await runInDurableObject(feed, async (_instance, state) => {
      const demand = new StatsDemand(state.storage.kv);
      expect(demand.answer(false)).toEqual({ wanted: false, epoch: 1 });
      // A viewer's walk began (epoch 2, sending) and then its alarm was lost.
      expect(demand.viewerJoined()).toBe(true);
      await state.storage.deleteAlarm();
    });
    const tab = record(await call("/api/v1/ws/events", { token: owner.user.accessToken, headers: upgrade }));
    await tab.next((frame) => frame.type === "live");
    await runDurableObjectAlarm(feed);
    await second.next((frame) => frame.type === "stats" && frame.send === true);
    await runInDurableObject(feed, (_instance, state) => {
      expect(new StatsDemand(state.storage.kv).walk()).toBeUndefined();
    });
  });

  it("ignores an unwanted older than the last start, and a start older than the last switch", async () => {
    const owner = await enrolledHost();
    const agent = await connectAgent(owner, [HOST_STATS_ON_DEMAND]);
    const relay = hostRelay(owner.host.id);
    await runInDurableObject(relay, (_instance, state) => {
      const socket = state.getWebSockets(AGENT_TAG)[0];
      const live = () => (socket ? { socket, agent: readAgent(socket) as AgentAttachment } : undefined);
      const stats = new HostStatsSwitch(state.storage.kv, live);
      stats.start(2);
      // Answered "unwanted" as of epoch 1, handled after the start of epoch 2: ignored.
      stats.unwanted(1);
      stats.unwanted(2);
      // A slow call of walk 2 (or 1) after the host was answered "unwanted" for 2: ignored.
      stats.start(2);
      stats.start(1);
      // The next viewer's walk, then its answer "unwanted": the last frame, so once it is
      // seen every frame sent before it was too.
      stats.start(3);
      stats.unwanted(3);
    });
    await expect.poll(() => statsFrames(agent).filter((frame) => !(frame as { send: boolean }).send).length).toBe(2);
    expect(statsFrames(agent)).toEqual([
      { type: "stats", send: true },
      { type: "stats", send: false },
      { type: "stats", send: true },
      { type: "stats", send: false },
    ]);
  });
  it("writes an unchanged switch once: an old agent's snapshots, each answered unwanted, cost no write", async () => {
    const owner = await enrolledHost();
    const agent = await connectAgent(owner, [HOST_STATS_ON_DEMAND]);
    await runInDurableObject(hostRelay(owner.host.id), (_instance, state) => {
      const socket = state.getWebSockets(AGENT_TAG)[0];
      const live = () => (socket ? { socket, agent: readAgent(socket) as AgentAttachment } : undefined);
      let puts = 0;
      const kv = state.storage.kv;
      const counted = Object.assign(Object.create(kv), {
        get: (key: string) => kv.get(key),
        put: (key: string, value: unknown) => {
          puts += 1;
          kv.put(key, value);
        },
      }) as SyncKvStorage;
      const stats = new HostStatsSwitch(counted, live);
      for (let n = 0; n < 5; n++) stats.unwanted(1);
      expect(puts).toBe(1);
      stats.start(2);
      expect(puts).toBe(2);
    });
    // A capable agent is told each time (a reconnected one started sending on connect).
    await expect.poll(() => statsFrames(agent).length).toBe(6);
  });
});

/**
 * Breaks a host's object for real: its storage gets an index named like the table its
 * constructor creates (as a bad migration might leave it), so each new instance of the object
 * throws ("there is already an index named audit_pending") and every call to it fails. The
 * object is then reset, so the next call makes a new instance.
 */
async function breakHostObject(hostId: string): Promise<void> {
  await runInDurableObject(hostRelay(hostId), (_instance, state) => {
    state.storage.sql.exec("DROP TABLE audit_pending");
    state.storage.sql.exec("CREATE TABLE broken (a)");
    state.storage.sql.exec("CREATE INDEX audit_pending ON broken (a)");
  });
  await runInDurableObject(hostRelay(hostId), (_instance, state) => state.abort("broken on purpose")).catch(() => {});
  const failure = await hostRelay(hostId)
    .sendHostStats(0)
    .then(
      () => undefined,
      (error: unknown) => error,
    );
  expect(String(failure)).toMatch(/already an index named audit_pending/);
}

describe("a walk past a host whose object keeps failing", () => {
  it("passes the page, tells every other host once, and keeps only that host for a retry", async () => {
    const owner = await enrolledHost();
    const broken = await anotherHost(owner);
    // Listed online (its agent's connect was recorded), then its object broke.
    await env.DB.prepare("UPDATE hosts SET online = 1 WHERE id = ?").bind(broken.host.id).run();
    await breakHostObject(broken.host.id);
    const healthy = [owner, ...(await Promise.all([1, 2].map(() => anotherHost(owner))))];
    const agents: RawSocket[] = [];
    for (const host of healthy) agents.push(await connectAgent(host, [HOST_STATS_ON_DEMAND]));
    const feed = userFeed(env, owner.user.id);
    // A first viewer's walk, set up in the feed's storage and run here rather than by the platform.
    await runInDurableObject(feed, async (_instance, state) => {
      state.storage.kv.put("user", owner.user.id);
      expect(new StatsDemand(state.storage.kv).viewerJoined()).toBe(true);
      await state.storage.setAlarm(Date.now() + 3_600_000);
    });
    expect(await runDurableObjectAlarm(feed)).toBe(true);
    await Promise.all(agents.map((agent) => agent.next((frame) => frame.type === "stats" && frame.send === true)));
    // The page is passed (a later one would be read next); the broken host alone waits for its retry.
    const later = Date.now() + 3_600_000;
    const firstRetryAt = await runInDurableObject(feed, (_instance, state) => {
      const demand = new StatsDemand(state.storage.kv);
      expect(demand.walk()).toBeUndefined();
      expect(demand.retriesDue(later)?.hostIds).toEqual([broken.host.id]);
      return demand.nextAlarm();
    });
    // Its retry calls that host only: the platform runs it once due (and sets the next one's
    // alarm), or it is run here as soon as it is due.
    await expect
      .poll(
        () =>
          runInDurableObject(feed, (_instance, state) => {
            const demand = new StatsDemand(state.storage.kv);
            return demand.retriesDue() !== undefined || demand.nextAlarm() !== firstRetryAt;
          }),
        { timeout: 10_000 },
      )
      .toBe(true);
    await runDurableObjectAlarm(feed);
    await runInDurableObject(feed, (_instance, state) => {
      expect(new StatsDemand(state.storage.kv).retriesDue(later)?.hostIds).toEqual([broken.host.id]);
    });
    // A start sent to each healthy host now arrives after any a retry sent them: it is their second frame.
    for (const host of healthy) await hostRelay(host.host.id).sendHostStats(2);
    await Promise.all(agents.map((agent) => expect.poll(() => statsFrames(agent).length).toBeGreaterThan(1)));
    for (const agent of agents)
      expect(statsFrames(agent)).toEqual([
        { type: "stats", send: true },
        { type: "stats", send: true },
      ]);
  });
});

describe("the first viewer's walk past one page of D1", () => {
  it("starts all 101 online hosts of a user: a page of 100, then the next on the next alarm", async () => {
    const owner = await enrolledHost();
    const hosts = [owner];
    while (hosts.length < 101) hosts.push(await anotherHost(owner));
    const agents: RawSocket[] = [];
    // A few at a time: each connect is an upgrade, a hello and its D1 write.
    for (let batch = 0; batch < hosts.length; batch += 10) {
      const connected = hosts.slice(batch, batch + 10).map((host) => connectAgent(host, [HOST_STATS_ON_DEMAND]));
      agents.push(...(await Promise.all(connected)));
    }
    const viewer = record(await call("/api/v1/ws/events", { token: owner.user.accessToken, headers: upgrade }));
    await viewer.next((frame) => frame.type === "live");
    await Promise.all(agents.map((agent) => agent.next((frame) => frame.type === "stats" && frame.send === true)));
    // By the time the last host (on the second page) was told, none had been told twice.
    expect(agents.map((agent) => statsFrames(agent).length)).toEqual(agents.map(() => 1));
  });
});
