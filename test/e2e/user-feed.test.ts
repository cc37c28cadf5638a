import { mkdir } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { UserFeedFrame } from "../../shared/schemas/user-events";
import { FeedViewer } from "../support/feed-viewer";
import { type Session, signUp, uniqueName } from "../support/kai-client";
import { createWorld, type World } from "./world";

let world: World;
let stranger: Session;
beforeAll(async () => {
  // Stats every second, so the test sees a few without waiting the default 5 s.
  world = await createWorld({ agentArgs: ["--stats-interval", "1"] });
  stranger = await signUp(world.edge.url);
});
afterAll(async () => world?.dispose());

const isContainer = (id: string, action: string) => (frame: UserFeedFrame) =>
  frame.type === "container" && frame.event.containerId === id && frame.event.action === action;
const seqs = (viewer: FeedViewer) => viewer.events().map((event) => event.seq);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, n) => from + n);

describe("the per-user live event feed, with a real Worker, kai-agent and Docker engine", () => {
  it("pushes presence, container lifecycle and stats; a reconnect with since misses and repeats nothing", async () => {
    const strangers = await FeedViewer.open(world.edge.url, stranger.token, 0);
    // From the start of the user's feed: the host came online while the world was built.
    const viewer = await FeedViewer.open(world.edge.url, world.session.token, 0);
    const online = await viewer.waitFor((frame) => frame.type === "host.online", "host.online");
    expect(online).toMatchObject({ seq: 1, hostId: world.host.id, docker: { ok: true } });
    await viewer.waitFor((frame) => frame.type === "live", "the live marker");

    const stats = await viewer.waitFor((frame) => frame.type === "host.stats", "a host.stats frame");
    expect(stats).toMatchObject({ hostId: world.host.id, stats: { services: expect.any(Object) } });

    const name = uniqueName("kai-e2e-feed-");
    const hostPath = path.join(world.root, name);
    await mkdir(hostPath, { recursive: true });
    const body = { name, image: world.image, hostPath, containerPath: "/workspace" };
    const created = await world.api("/api/flexy", { body });
    expect(created.status).toBe(201);
    const id: string = created.body.data.id;
    await viewer.waitFor(isContainer(id, "create"), "the create event");
    await world.api(`/api/flexy/${id}/start`, { method: "POST" });
    await viewer.waitFor(isContainer(id, "start"), "the start event");

    // The page goes away, the container stops meanwhile, and the page comes back from its last seq.
    const lastSeen = Math.max(...seqs(viewer));
    viewer.close();
    await viewer.closed;
    await world.api(`/api/flexy/${id}/stop?timeout=1`, { method: "POST" });
    const back = await FeedViewer.open(world.edge.url, world.session.token, lastSeen);
    await back.waitFor(isContainer(id, "stop"), "the stop event, replayed or live");
    await back.waitFor((frame) => frame.type === "host.stats", "stats after the reconnect");
    const replayed = seqs(back);
    expect(replayed[0]).toBe(lastSeen + 1);
    expect(replayed).toEqual(range(lastSeen + 1, lastSeen + replayed.length));
    // Together, the two connections saw every event once, in order.
    expect([...seqs(viewer), ...replayed]).toEqual(range(1, lastSeen + replayed.length));

    // The other user's feed carried none of it: no event, no stats.
    expect(strangers.frames.filter((frame) => frame.type !== "live")).toEqual([]);
    back.close();
    strangers.close();
  });
});
