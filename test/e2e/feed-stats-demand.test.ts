import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { STATS_GRACE_MS } from "../../edge/user-feed/stats-demand";
import type { UserFeedFrame } from "../../shared/schemas/user-events";
import { FeedViewer } from "../support/feed-viewer";
import { createWorld, type World } from "./world";

/**
 * Stats on demand end to end: a real kai-agent sends its stats snapshots to the real edge
 * only while its user's feed has a viewer. What the agent sent is read from its own log at
 * debug level (one "host stats published" line per snapshot on its socket).
 */

let world: World;
beforeAll(async () => {
  world = await createWorld({ agentArgs: ["--stats-interval", "1", "--log-level", "debug"] });
});
afterAll(async () => world?.dispose());

type StatsFrame = Extract<UserFeedFrame, { type: "host.stats" }>;
const PUBLISHED = /host stats published/;
const OFF = /host stats off/;
const ON = /host stats on/;
const CONNECTED = / connected /;
const isStats = (hostId: string, after: number) => (frame: UserFeedFrame) =>
  frame.type === "host.stats" && frame.hostId === hostId && Date.parse(frame.at) >= after;

/**
 * The agent's switches and snapshots in the order it logged them, checked over the whole log:
 * at least one snapshot before it was first switched off (the one sent on connecting), and
 * none between an off and the next on (or a new connection), not even a sample that was in flight when switched off.
 */
function expectNoneWhileOff(lines: string[]): void {
  const events = lines.flatMap((line) => {
    if (PUBLISHED.test(line)) return ["published"];
    if (OFF.test(line)) return ["off"];
    // A new connection's reporter starts on (its first snapshot tells the edge), unlogged.
    if (ON.test(line) || CONNECTED.test(line)) return ["on"];
    return [];
  });
  const firstOff = events.indexOf("off");
  expect(firstOff).toBeGreaterThan(0);
  expect(events.slice(0, firstOff)).toContain("published");
  let off = false;
  const whileOff: number[] = [];
  events.forEach((event, index) => {
    if (event === "off") off = true;
    else if (event === "on") off = false;
    else if (off) whileOff.push(index);
  });
  expect(whileOff, `snapshots published while off, in ${events.join(" ")}`).toEqual([]);
}

describe("host stats only while the user's feed is watched (real agent, real edge)", () => {
  it("sends none while nobody watches, one at once for the first viewer, and stops after the last leaves", async () => {
    // Connecting, the agent sent a snapshot; nobody watches, so the edge switched it off.
    await world.agent.waitFor(OFF, 30_000);

    // The first viewer: the agent is switched on and its next snapshot reaches the page.
    const opened = Date.now();
    const viewer = await FeedViewer.open(world.edge.url, world.session.token);
    const onAt = world.agent.lines.length;
    await world.agent.waitFor(ON, 30_000);
    const fresh = await viewer.waitFor<StatsFrame>(
      isStats(world.host.id, opened),
      "a snapshot taken after the viewer came",
    );
    expect(fresh.stats.services).toBeDefined();
    await world.agent.waitFor(PUBLISHED, 30_000, onAt);

    // More follow while it watches, one per interval.
    await viewer.waitFor(
      (frame) => frame.type === "host.stats" && Date.parse(frame.at) > Date.parse(fresh.at),
      "a later snapshot",
    );

    // The last viewer leaves: after the grace, the next snapshot is answered "unwanted" and the agent stops.
    const closedAt = world.agent.lines.length;
    viewer.close();
    await viewer.closed;
    await world.agent.waitFor(OFF, STATS_GRACE_MS + 30_000, closedAt);

    // A reload-like return is served again: a new first viewer switches the agent back on.
    const again = world.agent.lines.length;
    const reopened = Date.now();
    const back = await FeedViewer.open(world.edge.url, world.session.token);
    await world.agent.waitFor(ON, 30_000, again);
    await back.waitFor(isStats(world.host.id, reopened), "a snapshot for the returning viewer");
    back.close();

    // Over the whole run: nothing left the agent while it was switched off.
    expectNoneWhileOff(world.agent.lines);
  });
});
