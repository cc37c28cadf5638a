import { afterEach, describe, expect, it } from "vitest";
import { LiveStats } from "../../agent/runtime/docker/live-stats";
import { type ServiceWorld, serviceWorld } from "../support/service-world";
import { setupOrFail } from "../support/setup-or-fail";
import { until } from "../support/until";

/** LiveStats against the real engine's stats streams. */

let world: ServiceWorld;
const made: LiveStats[] = [];

const setup = setupOrFail(async () => {
  world = await serviceWorld("live");
});
afterEach(async () => {
  for (const live of made.splice(0)) live.stop();
  if (setup.ready) await world.cleanup();
});

function liveStats(options: ConstructorParameters<typeof LiveStats>[1] = {}): LiveStats {
  const live = new LiveStats(world.docker, options);
  made.push(live);
  return live;
}

describe("LiveStats", () => {
  it("waits about one Docker interval for the first complete sample, then answers from the stream at once", async () => {
    const a = await world.container({ name: world.name("a") });
    const b = await world.container({ name: world.name("b") });
    const live = liveStats();

    const first = Date.now();
    const samples = await live.samples([a.Id, b.Id]);
    expect(Date.now() - first).toBeLessThan(2_600);
    for (const id of [a.Id, b.Id]) {
      expect(samples.get(id)).toMatchObject({ complete: true });
      expect(samples.get(id)?.memoryUsage).toBeGreaterThan(0);
    }
    expect(live.watched().sort()).toEqual([a.Id, b.Id].sort());

    const again = Date.now();
    await live.samples([a.Id, b.Id]);
    expect(Date.now() - again).toBeLessThan(100);
    // The samples move on with the stream.
    const read = samples.get(a.Id)?.read;
    await until(async () => (await live.sample(a.Id))?.read !== read, 5_000, "a newer sample");
  });

  it("never waits longer than asked", async () => {
    const a = await world.container({ name: world.name("quick") });
    const live = liveStats();
    const started = Date.now();
    const sample = await live.sample(a.Id, { waitMs: 50 });
    expect(Date.now() - started).toBeLessThan(500);
    // At most the first frame, which has no CPU reading yet.
    if (sample) expect(sample.complete).toBe(false);
  });

  it("drops the stream of a container that stops, and of one that does not exist", async () => {
    const a = await world.container({ name: world.name("stops") });
    const live = liveStats();
    await live.samples([a.Id]);
    await world.docker.getContainer(a.Id).kill();
    await until(() => !live.watched().includes(a.Id), 5_000, "the stream to close");

    const missing = "0123456789ab0123456789ab0123456789ab0123456789ab0123456789abcdef";
    const started = Date.now();
    expect(await live.sample(missing)).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(live.watched()).toEqual([]);
  });

  it("closes streams nobody asked about for the idle time", async () => {
    const a = await world.container({ name: world.name("idle-a") });
    const b = await world.container({ name: world.name("idle-b") });
    let now = 1_000_000;
    const live = liveStats({ idleMs: 60_000, sweepMs: 20, now: () => now });
    await live.samples([a.Id, b.Id]);
    now += 40_000;
    await live.samples([b.Id]);
    now += 30_000;
    // a was last asked 70 s ago, b 30 s ago.
    await until(() => !live.watched().includes(a.Id), 2_000, "a to be closed");
    expect(live.watched()).toEqual([b.Id]);
  });

  it("closes everything on stop", async () => {
    const a = await world.container({ name: world.name("stop") });
    const live = liveStats();
    await live.samples([a.Id]);
    live.stop();
    expect(live.watched()).toEqual([]);
    // Usable again afterwards.
    expect((await live.sample(a.Id))?.complete).toBe(true);
  });
});
