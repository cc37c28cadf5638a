import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { database } from "../../edge/db/client";
import { onlineHostsPage } from "../../edge/user-feed/online-hosts";
import { STATS_GRACE_MS, StatsDemand } from "../../edge/user-feed/stats-demand";
import { HOST_STATS_ON_DEMAND, HOST_STATS_TOPIC } from "../../shared/protocol";
import { connectAgent, type EnrolledHost, enrolledHost, type RawSocket, record } from "./agent-socket";
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
      // A second viewer (another tab) asks no host again.
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

    // A second tab asks no host again; the older agent was never sent a frame it does not know.
    const tab = record(await call("/api/v1/ws/events", { token: owner.user.accessToken, headers: upgrade }));
    await tab.next((frame) => frame.type === "live");
    publishStats(old, 3);
    await viewer.next((frame) => frame.type === "host.stats" && frame.hostId === older.host.id);
    for (const agent of agents)
      expect(statsFrames(agent)).toEqual([
        { type: "stats", send: false },
        { type: "stats", send: true },
      ]);
    expect(statsFrames(old)).toEqual([]);
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
