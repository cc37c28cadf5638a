import { randomUUID } from "node:crypto";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { Backoff } from "../../agent/backoff";
import { createDockerClient } from "../../agent/runtime/docker/client";
import { watchContainerEvents } from "../../agent/runtime/docker/events";
import type { ContainerEvent } from "../../shared/schemas/services";
import { busyboxImage, requireDocker } from "../support/busybox-image";
import { startCuttingEngine } from "../support/cutting-engine";
import { type DockerProxy, startDockerProxy } from "../support/docker-proxy";
import { setupOrFail } from "../support/setup-or-fail";
import { until } from "../support/until";

/**
 * The event watcher against the real engine: containers made, started and killed with
 * plain dockerode (as the docker CLI would, outside Kai) are reported in order.
 */

const docker = createDockerClient();
const RUN = randomUUID().slice(0, 8);
const HOST_ID = `test-host-${RUN}`;
const LABEL = "kai-test.run";
let image: string;
let proxy: DockerProxy;
const stops: AbortController[] = [];

setupOrFail(async () => {
  await requireDocker(docker);
  image = await busyboxImage(docker);
  proxy = await startDockerProxy();
});
afterEach(async () => {
  for (const controller of stops.splice(0)) controller.abort();
  const mine = await docker.listContainers({ all: true, filters: { label: [`${LABEL}=${RUN}`] } });
  await Promise.all(
    mine.map((info) =>
      docker
        .getContainer(info.Id)
        .remove({ force: true })
        .catch(() => undefined),
    ),
  );
});
afterAll(async () => {
  await proxy?.close();
});

/** Starts a watcher and collects the events of containers whose name starts with `prefix`. */
function watch(prefix: string, client = docker, backoff = new Backoff({ baseMs: 50, capMs: 200 })) {
  const events: ContainerEvent[] = [];
  const controller = new AbortController();
  stops.push(controller);
  const done = watchContainerEvents(
    client,
    HOST_ID,
    (event) => {
      if (event.name.startsWith(prefix)) events.push(event);
    },
    controller.signal,
    undefined,
    { backoff },
  );
  return { events, controller, done };
}

describe("watchContainerEvents", () => {
  it("reports create, start, kill, die (137) and destroy in order, with names and the managed flag", async () => {
    const name = `kai-test-events-${RUN}-a`;
    const { events, controller, done } = watch(name);
    await new Promise((resolve) => setTimeout(resolve, 200));

    const container = await docker.createContainer({
      name,
      Image: image,
      Labels: { [LABEL]: RUN, "kai.managed": "true", "kai.host": HOST_ID },
    });
    await container.start();
    await container.kill();
    await container.wait();
    await container.remove();
    await until(() => events.some((event) => event.action === "destroy"), 10_000, "destroy");

    expect(events.map((event) => event.action)).toEqual(["create", "start", "kill", "die", "destroy"]);
    expect(events.find((event) => event.action === "die")?.exitCode).toBe(137);
    for (const event of events) {
      expect(event).toMatchObject({ containerId: container.id, name, image, managed: true });
      expect(Math.abs(Date.parse(event.time) - Date.now())).toBeLessThan(60_000);
    }
    controller.abort();
    await expect(done).resolves.toBeUndefined();
  });

  it("is not managed for a container of another host", async () => {
    const name = `kai-test-events-${RUN}-b`;
    const { events } = watch(name);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await docker.createContainer({
      name,
      Image: image,
      Labels: { [LABEL]: RUN, "kai.managed": "true", "kai.host": "another-host" },
    });
    await until(() => events.length > 0, 10_000, "create");
    expect(events[0]).toMatchObject({ action: "create", managed: false, exitCode: null });
  });

  it("subscribes again when the engine connection drops, missing nothing and repeating nothing", async () => {
    const name = `kai-test-events-${RUN}-c`;
    // At least 750 ms between subscriptions, so what happens right after a drop falls in the gap.
    const { events } = watch(
      name,
      createDockerClient({ socketPath: proxy.socketPath }),
      new Backoff({ baseMs: 1_500, capMs: 1_500 }),
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    const container = await docker.createContainer({ name, Image: image, Labels: { [LABEL]: RUN } });
    await until(() => events.length === 1, 10_000, "create");

    proxy.dropConnections();
    // Happens while the watcher is between subscriptions: the resumed one replays it.
    await container.start();
    await until(() => events.some((event) => event.action === "start"), 10_000, "start after the drop");
    proxy.dropConnections();
    await container.kill();
    await until(() => events.some((event) => event.action === "die"), 10_000, "die after the second drop");
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(events.map((event) => event.action)).toEqual(["create", "start", "kill", "die"]);
  });
});

describe("watchContainerEvents, when the engine cuts its event stream", () => {
  it("pauses longer each time a stream is cut moments after it opened, as when it never opened", async () => {
    const engine = await startCuttingEngine({ eventStreamMs: 5 });
    try {
      const client = createDockerClient({ socketPath: engine.socketPath });
      const controller = new AbortController();
      const logged: string[] = [];
      const done = watchContainerEvents(
        client,
        HOST_ID,
        () => undefined,
        controller.signal,
        (level, message) => level !== "debug" && logged.push(`${level}: ${message}`),
        { backoff: new Backoff({ baseMs: 10, capMs: 200 }) },
      );
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      controller.abort();
      await done;
      // Said once, not at every opening and cut.
      expect(logged).toEqual(["warn: docker event stream ended; subscribing again"]);
      // Pauses of 5-10, 10-20, … ms, up to 100-200: at most 18 subscriptions in 1.5 s, where
      // starting over at each open made one every 15 ms or so.
      const subscriptions = engine.count(/\/events/);
      expect(subscriptions).toBeGreaterThanOrEqual(5);
      expect(subscriptions).toBeLessThanOrEqual(18);
    } finally {
      await engine.close();
    }
  });

  it("starts over from the shortest pause after a stream that stayed open as long as the longest pause", async () => {
    const engine = await startCuttingEngine({ eventStreamMs: 150 });
    try {
      const client = createDockerClient({ socketPath: engine.socketPath });
      watch("none", client, new Backoff({ baseMs: 10, capMs: 100 }));
      await until(() => engine.count(/\/events/) >= 6, 10_000, "six subscriptions");
      const streams = engine.requests.slice(0, 6);
      // Each pause is 5-10 ms; growing, the fifth would have been 50-100.
      const pauses = streams.slice(1).map((stream, i) => stream.atMs - (streams[i]?.cutAtMs ?? 0));
      for (const pause of pauses) expect(pause).toBeLessThan(45);
    } finally {
      await engine.close();
    }
  });
});
