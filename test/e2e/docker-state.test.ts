import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { UserFeedFrame } from "../../shared/schemas/user-events";
import { type DockerProxy, startDockerProxy } from "../support/docker-proxy";
import { FeedViewer } from "../support/feed-viewer";
import { until } from "../support/until";
import { createWorld, type World } from "./world";

/**
 * The host's Docker state as the dashboard sees it follows kai-agent's event stream from the
 * engine (agent/connection/docker-state-follower.ts), not a poll: the engine is asked when the
 * stream ends and when it opens again. The agent reaches Docker through a proxy that records
 * its requests and can cut them, as an engine that stops would.
 */

let world: World;
let proxy: DockerProxy;
let viewer: FeedViewer;

beforeAll(async () => {
  proxy = await startDockerProxy();
  world = await createWorld({ agentArgs: ["--docker-socket", proxy.socketPath] });
  // From the start of the user's feed: every Docker state the edge was told of.
  viewer = await FeedViewer.open(world.edge.url, world.session.token, 0);
});
afterAll(async () => {
  viewer?.close();
  await world?.dispose();
  await proxy?.close();
});

/** The agent's requests for the engine's version and its event stream, from request `from` on. */
const stateRequests = (from: number) =>
  proxy.requests.slice(from).flatMap((line) => {
    if (/^GET \S*\/version/.test(line)) return ["version"];
    if (/^GET \S*\/events/.test(line)) return ["events"];
    return [];
  });

const dockerStates = () =>
  viewer.frames.flatMap((frame: UserFeedFrame) => (frame.type === "host.docker" ? [frame.docker] : []));

describe("the host's Docker state, following the agent's event stream", () => {
  it("asks the engine once as the stream drops and once as it opens again, and reports nothing while it answers", async () => {
    // Subscribed, the version asked as the stream opened, and every request answered: the
    // agent's state is settled (a check cut by the drop would fail for want of an answer).
    await until(
      () =>
        stateRequests(0).includes("events") &&
        stateRequests(0).at(-1) === "version" &&
        proxy.answered === proxy.requests.length,
    );
    const from = proxy.requests.length;
    proxy.dropConnections();
    await until(() => stateRequests(from).length >= 3, 20_000, "the checks around the drop");
    // The version is asked before the watcher's backoff ends, not at the next poll.
    expect(stateRequests(from)).toEqual(["version", "events", "version"]);
  });

  it("reports an engine that stops as its stream ends, and the engine once it is back", async () => {
    proxy.refuse = /./;
    proxy.dropConnections();
    await until(() => dockerStates().length >= 1, 20_000, "the engine reported unreachable");
    expect((await world.api("/api/health")).body.data.services.docker).toBe("unhealthy");

    proxy.refuse = undefined;
    await until(() => dockerStates().length >= 2, 30_000, "the engine reported back");
    const { Version } = await world.docker.version();
    // No flap before: the drop with a healthy engine (the test above) reported nothing.
    expect(dockerStates()).toEqual([
      { ok: false, version: null },
      { ok: true, version: Version },
    ]);
    expect((await world.api("/api/health")).body.data.services.docker).toBe("healthy");
  });
});
