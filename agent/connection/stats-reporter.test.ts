import { describe, expect, it } from "vitest";
import type { ResultOf } from "../../shared/commands";
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
    let calls = 0;
    const reporter = reportHostStats({
      stats: async () => snapshot(++calls),
      publish: (_topic, data) => published.push((data as ReturnType<typeof snapshot>).services.running),
      canPublish: () => true,
      // Long enough that only the snapshot sent at once is seen before the switch.
      intervalMs: 60_000,
      log: (level, message) => level !== "debug" && logged.push(message),
      signal: controller.signal,
    });
    await until(() => published.length === 1, 10_000, "the snapshot sent on connecting");
    reporter.send(false);
    reporter.send(false);
    reporter.send(true);
    await until(() => published.length === 2, 10_000, "the snapshot sent at once when switched on");
    // Switched on again while on: nothing more at once.
    reporter.send(true);
    controller.abort();
    expect(published).toEqual([1, 2]);
    expect(logged).toEqual(["host stats off: nobody watches the feed", "host stats on: the owner's feed has a viewer"]);
  });
});
