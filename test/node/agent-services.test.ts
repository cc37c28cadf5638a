import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { healthOf } from "../../agent/handlers/system-stats";
import { engineInspect, kaiError, type ServiceWorld, serviceWorld } from "../support/service-world";
import { setupOrFail } from "../support/setup-or-fail";
import { until } from "../support/until";

/**
 * Services against the real engine: list (fields, health, stats, filters, paging),
 * inspect, start/stop/restart, stats and system stats. The engine is shared, so checks look
 * at this run's containers inside answers that also hold other processes' containers.
 */

let world: ServiceWorld;
let tmp: string;

const setup = setupOrFail(async () => {
  tmp = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), "kai-services-")));
  world = await serviceWorld("svc");
});
afterEach(async () => {
  if (setup.ready) await world.cleanup();
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

/** Health checks every 200 ms, so a verdict comes within a second. */
const healthcheck = (test: string[]) => ({
  Test: test,
  Interval: 200_000_000,
  Timeout: 1_000_000_000,
  Retries: 1,
  StartPeriod: 0,
});

describe("service.list", () => {
  it("lists every container with its fields, health and live stats, sorted by name", async () => {
    const healthy = await world.container({
      name: world.name("a-healthy"),
      Healthcheck: healthcheck(["CMD", "true"]),
      ExposedPorts: { "8080/tcp": {} },
      HostConfig: { PortBindings: { "8080/tcp": [{ HostIp: "127.0.0.1", HostPort: "" }] } },
    });
    const unhealthy = await world.container({
      name: world.name("b-unhealthy"),
      Healthcheck: healthcheck(["CMD", "false"]),
    });
    const created = await world.container({ name: world.name("c-created"), start: false });
    const labelled = await world.container({
      name: world.name("d-labelled"),
      Labels: {
        "org.opencontainers.image.version": "2.4.1",
        "org.opencontainers.image.description": "A described service",
      },
    });
    await until(
      async () => (await engineInspect(world.docker, unhealthy.Id))?.State.Health?.Status === "unhealthy",
      10_000,
      "unhealthy",
    );
    await until(
      async () => (await engineInspect(world.docker, healthy.Id))?.State.Health?.Status === "healthy",
      10_000,
      "healthy",
    );

    const listed = await world.call("service.list", { filter: "all", limit: 500, page: 1 });
    const names = listed.services.map((item) => item.name);
    expect(names).toEqual([...names].sort((a, b) => a.localeCompare(b, "en")));
    const mine = listed.services.filter((item) => item.name.startsWith(`kai-test-svc-${world.run}-`));
    expect(mine.map((item) => item.containerId)).toEqual(
      [healthy, unhealthy, created, labelled].map((info) => info.Id.slice(0, 12)),
    );

    const hostPort = Number(
      (await engineInspect(world.docker, healthy.Id))?.NetworkSettings.Ports["8080/tcp"]?.[0]?.HostPort,
    );
    const tag = world.image.split(":")[1];
    expect(mine[0]).toMatchObject({
      id: healthy.Name.slice(1),
      name: healthy.Name.slice(1),
      status: "running",
      health: "healthy",
      version: tag,
      description: null,
      port: hostPort,
      url: `http://localhost:${hostPort}`,
    });
    expect(mine[1]).toMatchObject({ status: "running", health: "unhealthy", port: null, url: null });
    expect(mine[2]).toMatchObject({
      status: "created",
      health: "none",
      stats: { cpu: 0, memory: 0, uptime: 0, restartCount: 0 },
    });
    expect(mine[3]).toMatchObject({
      status: "running",
      health: "none",
      version: "2.4.1",
      description: "A described service",
    });
    for (const item of [mine[0], mine[1], mine[3]]) {
      expect(item?.stats.cpu).toBeGreaterThanOrEqual(0);
      expect(item?.stats.memory).toBeGreaterThanOrEqual(0);
      expect(item?.stats.memory).toBeLessThanOrEqual(100);
      expect(item?.stats.uptime).toBeGreaterThanOrEqual(0);
    }
    // The running ones are now watched: their streams stay open for the next list.
    expect(world.liveStats.watched()).toEqual(expect.arrayContaining([healthy.Id, unhealthy.Id, labelled.Id]));
    expect(world.liveStats.watched()).not.toContain(created.Id);
    // …and answer from them without waiting: asked with no time to wait, each has a complete
    // sample (other processes' new containers could make a whole list wait for their first
    // sample, so the check asks for these three only). Polled: on a loaded machine a stream's
    // second frame, the first with CPU, may come after the list answered.
    const ids = [healthy.Id, unhealthy.Id, labelled.Id];
    await until(async () => {
      const cached = await world.liveStats.samples(ids, { waitMs: 0 });
      return ids.every((id) => cached.get(id)?.complete === true);
    });
  });

  it("filters running and stopped (everything not running), and pages with the total before paging", async () => {
    const running = await world.container({ name: world.name("run") });
    const exited = await world.container({ name: world.name("exit"), Cmd: ["/bin/true"] });
    const created = await world.container({ name: world.name("new"), start: false });
    await until(async () => (await engineInspect(world.docker, exited.Id))?.State.Status === "exited", 5_000, "exit");

    const runningIds = (await world.call("service.list", { filter: "running", limit: 500, page: 1 })).services.map(
      (item) => item.containerId,
    );
    const stoppedIds = (await world.call("service.list", { filter: "stopped", limit: 500, page: 1 })).services.map(
      (item) => item.containerId,
    );
    expect(runningIds).toContain(running.Id.slice(0, 12));
    expect(runningIds).not.toContain(exited.Id.slice(0, 12));
    expect(stoppedIds).toEqual(expect.arrayContaining([exited.Id.slice(0, 12), created.Id.slice(0, 12)]));
    expect(stoppedIds).not.toContain(running.Id.slice(0, 12));
    const stopped = (await world.call("service.list", { filter: "stopped", limit: 500, page: 1 })).services;
    expect(stopped.find((item) => item.containerId === exited.Id.slice(0, 12))?.status).toBe("stopped");

    // Other processes may add containers between two calls: retry until two agree.
    for (let attempt = 0; ; attempt++) {
      const all = await world.call("service.list", { filter: "all", limit: 500, page: 1 });
      const page1 = await world.call("service.list", { filter: "all", limit: 2, page: 1 });
      const page2 = await world.call("service.list", { filter: "all", limit: 2, page: 2 });
      const beyond = await world.call("service.list", { filter: "all", limit: 2, page: 1_000 });
      if (new Set([all.total, page1.total, page2.total, beyond.total]).size > 1 && attempt < 3) continue;
      expect(all.total).toBe(all.services.length);
      expect(all.total).toBeGreaterThanOrEqual(3);
      expect(page1.total).toBe(all.total);
      expect([...page1.services, ...page2.services].map((item) => item.containerId)).toEqual(
        all.services.slice(0, 4).map((item) => item.containerId),
      );
      expect(beyond).toEqual({ services: [], total: all.total });
      break;
    }
  });
});

describe("service.inspect", () => {
  it("adds image, created, ports, volumes and env, by name, short id or full id", async () => {
    const info = await world.container({
      name: world.name("inspect"),
      Env: ["NODE_ENV=production", "PORT=8000"],
      ExposedPorts: { "8000/tcp": {}, "9000/tcp": {} },
      HostConfig: {
        PortBindings: { "8000/tcp": [{ HostIp: "127.0.0.1", HostPort: "" }] },
        Binds: [`${tmp}:/app/data`],
      },
    });
    const name = info.Name.slice(1);
    const details = await world.call("service.inspect", { id: name });
    const hostPort = Number(
      (await engineInspect(world.docker, info.Id))?.NetworkSettings.Ports["8000/tcp"]?.[0]?.HostPort,
    );
    expect(details).toMatchObject({ id: name, containerId: info.Id.slice(0, 12), status: "running", port: hostPort });
    expect(details.details).toEqual({
      image: world.image,
      created: new Date(Date.parse(info.Created)).toISOString(),
      ports: [
        { internal: 8000, external: hostPort },
        { internal: 9000, external: null },
      ],
      volumes: [{ source: tmp, destination: "/app/data" }],
      env: expect.arrayContaining(["NODE_ENV=production", "PORT=8000"]),
    });
    expect((await world.call("service.inspect", { id: info.Id.slice(0, 12) })).id).toBe(name);
    expect((await world.call("service.inspect", { id: info.Id })).id).toBe(name);
  });

  it("answers CONTAINER_NOT_FOUND for an unknown id or name, whatever the action", async () => {
    const id = `kai-test-svc-${world.run}-never`;
    const attempts: Array<[string, () => Promise<unknown>]> = [
      ["service.inspect", () => world.call("service.inspect", { id })],
      ["service.start", () => world.call("service.start", { id })],
      ["service.stop", () => world.call("service.stop", { id })],
      ["service.restart", () => world.call("service.restart", { id })],
      ["service.update", () => world.call("service.update", { id })],
      ["service.stats", () => world.call("service.stats", { id })],
      ["service.logs", () => world.call("service.logs", { id, lines: 10 })],
      ["service.logs.follow", () => world.call("service.logs.follow", { id })],
    ];
    for (const [op, attempt] of attempts) {
      const error = await kaiError(attempt());
      expect(error.code, op).toBe("CONTAINER_NOT_FOUND");
      expect(error.message).toBe(`service ${id} not found on this host`);
    }
  });
});

describe("service.start, stop and restart", () => {
  it("answer the status the engine reports afterwards", async () => {
    const info = await world.container({ name: world.name("life"), start: false });
    expect(await world.call("service.start", { id: info.Id })).toEqual({ status: "running" });
    expect(await world.call("service.start", { id: info.Id })).toEqual({ status: "running" });
    const stopping = Date.now();
    expect(await world.call("service.stop", { id: info.Id, timeoutSeconds: 1 })).toEqual({ status: "stopped" });
    expect(Date.now() - stopping).toBeLessThan(8_000);
    expect(await world.call("service.stop", { id: info.Id, timeoutSeconds: 1 })).toEqual({ status: "stopped" });
    expect(await world.call("service.restart", { id: info.Id, timeoutSeconds: 1 })).toEqual({ status: "running" });
    expect((await engineInspect(world.docker, info.Id))?.State.Running).toBe(true);

    const quits = await world.container({ name: world.name("quits"), Cmd: ["/bin/false"], start: false });
    await world.call("service.start", { id: quits.Id });
    await until(
      async () => (await world.call("service.inspect", { id: quits.Id })).status === "stopped",
      5_000,
      "exit",
    );
  });
});

describe("service.stats and system.stats", () => {
  it("reports values in range, and real CPU use for a busy container", async () => {
    const idle = await world.container({ name: world.name("idle") });
    const busy = await world.container({ name: world.name("busy"), Cmd: ["/bin/sh", "-c", "while :; do :; done"] });
    const stats = await world.call("service.stats", { id: idle.Id });
    expect(stats.cpu).toBeGreaterThanOrEqual(0);
    expect(stats.memory).toBeGreaterThanOrEqual(0);
    expect(stats.memory).toBeLessThanOrEqual(100);
    expect(stats.memoryUsage).toBeGreaterThan(0);
    expect(stats.memoryLimit).toBeGreaterThan(0);
    expect(stats.uptime).toBeGreaterThanOrEqual(0);
    expect(stats.restartCount).toBe(0);
    expect(Math.abs(Date.parse(stats.timestamp) - Date.now())).toBeLessThan(10_000);
    // One busy loop is most of one CPU: "docker stats" would show about 100 %.
    expect((await world.call("service.stats", { id: busy.Id })).cpu).toBeGreaterThan(20);

    await world.call("service.stop", { id: idle.Id, timeoutSeconds: 0 });
    expect(await world.call("service.stats", { id: idle.Id })).toMatchObject({
      cpu: 0,
      memory: 0,
      memoryUsage: 0,
      uptime: 0,
    });
  });

  it("aggregates every container, counting warnings and errors", async () => {
    await world.container({ name: world.name("sick"), Healthcheck: healthcheck(["CMD", "false"]) });
    const failed = await world.container({ name: world.name("failed"), Cmd: ["/bin/sh", "-c", "exit 3"] });
    await until(async () => (await engineInspect(world.docker, failed.Id))?.State.Status === "exited", 5_000, "exit");
    await until(async () => (await world.call("system.stats", {})).health.warnings > 0, 10_000, "unhealthy");

    const system = await world.call("system.stats", {});
    const engine = await world.docker.listContainers({ all: true });
    expect(system.services.total).toBeGreaterThanOrEqual(2);
    expect(Math.abs(system.services.total - engine.length)).toBeLessThanOrEqual(2);
    expect(system.services.running + system.services.stopped).toBe(system.services.total);
    expect(system.health.errors).toBeGreaterThanOrEqual(1);
    expect(system.health.status).toBe("unhealthy");
    expect(system.resources.avgCpu).toBeGreaterThanOrEqual(0);
    expect(system.resources.avgMemory).toBeGreaterThanOrEqual(0);
    expect(system.resources.totalMemoryUsage).toBeGreaterThan(0);
  });

  it("rates health: errors make it unhealthy, warnings degraded", () => {
    const state = (overrides: Record<string, unknown>) => ({
      State: {
        Status: "running",
        Running: true,
        Paused: false,
        Restarting: false,
        OOMKilled: false,
        Dead: false,
        Pid: 1,
        ExitCode: 0,
        Error: "",
        StartedAt: "",
        FinishedAt: "",
        ...overrides,
      },
    });
    expect(healthOf([state({}), state({ Status: "exited", Running: false, ExitCode: 137 })])).toEqual({
      status: "healthy",
      warnings: 0,
      errors: 0,
    });
    expect(
      healthOf([state({ Restarting: true }), state({ Health: { Status: "unhealthy", FailingStreak: 3, Log: [] } })]),
    ).toEqual({ status: "degraded", warnings: 2, errors: 0 });
    expect(
      healthOf([state({ Status: "exited", Running: false, ExitCode: 1 }), state({ Status: "dead", Dead: true })]),
    ).toEqual({ status: "unhealthy", warnings: 0, errors: 2 });
    expect(healthOf([state({ Status: "exited", Running: false, ExitCode: 137, OOMKilled: true })]).errors).toBe(1);
  });
});
