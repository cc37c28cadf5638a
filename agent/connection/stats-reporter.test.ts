import { describe, expect, it } from "vitest";
import type { ResultOf } from "../../shared/command-replies";
import { HOST_STATS_TOPIC } from "../../shared/protocol";
import { until } from "../../test/support/until";
import { reportHostStats } from "./stats-reporter";

const snapshot = (running: number): ResultOf<"system.stats"> => ({
  services: { total: running, running, stopped: 0 },
  resources: { avgCpu: 0, avgMemory: 0, totalMemoryUsage: 0 },
  health: { status: "healthy", warnings: 0, errors: 0 },
});

describe("reportHostStats", () => {
  it("publishes a snapshot each interval, logs a run of failures once, goes on, and stops with its signal", async () => {
    const published: unknown[] = [];
    const logged: string[] = [];
    const controller = new AbortController();
    let calls = 0;
    reportHostStats({
      stats: async () => {
        calls += 1;
        // The 2nd and 3rd samples fail (the engine went away a moment): one warning for both.
        if (calls === 2 || calls === 3) throw new Error("engine gone");
        return snapshot(calls);
      },
      publish: (topic, data) => {
        expect(topic).toBe(HOST_STATS_TOPIC);
        published.push(data);
        if (published.length === 3) controller.abort();
      },
      canPublish: () => true,
      intervalMs: 5,
      log: (level, message) => level !== "debug" && logged.push(message),
      signal: controller.signal,
    });
    await until(() => controller.signal.aborted, 10_000, "three snapshots");
    expect(published).toEqual([snapshot(1), snapshot(4), snapshot(5)]);
    expect(logged).toEqual(["host stats sample failed"]);
  });

  it("stops when the edge says nobody watches, and sends one at once when it says someone does", async () => {
    const published: number[] = [];
    const logged: string[] = [];
    const controller = new AbortController();
    // Each sample waits for the test to finish it, so a switch can land while one is in flight.
    const samples: Array<(running: number) => void> = [];
    const reporter = reportHostStats({
      stats: () => new Promise((resolve) => samples.push((running) => resolve(snapshot(running)))),
      publish: (_topic, data) => published.push((data as ReturnType<typeof snapshot>).services.running),
      canPublish: () => true,
      // Long enough that no sample but those taken at once is started during the test.
      intervalMs: 60_000,
      log: (level, message) => level !== "debug" && logged.push(message),
      signal: controller.signal,
    });
    await until(() => samples.length === 1, 10_000, "the sample taken on connecting");
    samples[0]?.(1);
    await until(() => published.length === 1, 10_000, "the snapshot sent on connecting");

    // Switched on again while on: no sample at once (only the next interval's, a minute away).
    reporter.send(true);
    await flush();
    expect(samples).toHaveLength(1);

    // Off, then on: one sample at once, but switched off while it is in flight it is discarded.
    reporter.send(false);
    reporter.send(false);
    reporter.send(true);
    await until(() => samples.length === 2, 10_000, "the sample taken at once when switched on");
    reporter.send(false);
    samples[1]?.(2);
    await flush();
    expect(published).toEqual([1]);
    // Nor does the discarded sample schedule another.
    expect(samples).toHaveLength(2);

    // On again: a fresh sample at once, and that one is sent.
    reporter.send(true);
    await until(() => samples.length === 3, 10_000, "the sample taken when switched on again");
    samples[2]?.(3);
    await until(() => published.length === 2, 10_000, "the snapshot sent when switched on again");
    controller.abort();
    expect(published).toEqual([1, 3]);
    expect(logged).toEqual([
      "host stats off: nobody watches the feed",
      "host stats on: the owner's feed has a viewer",
      "host stats off: nobody watches the feed",
      "host stats on: the owner's feed has a viewer",
    ]);
  });
});

/** Runs what is due now: timers set to 0 ms and the promise callbacks they queue. */
async function flush(): Promise<void> {
  for (let round = 0; round < 3; round += 1) await new Promise((resolve) => setTimeout(resolve, 0));
}
