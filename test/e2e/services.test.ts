import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { streamFrameOf, uniqueName } from "../support/kai-client";
import { until } from "../support/until";
import { createWorld, type World } from "./world";

let world: World;
const created: string[] = [];
const images: string[] = [];

beforeAll(async () => {
  world = await createWorld();
});
afterAll(async () => {
  for (const id of created)
    await world.docker
      .getContainer(id)
      .remove({ force: true })
      .catch(() => undefined);
  for (const image of images)
    await world.docker
      .getImage(image)
      .remove({ force: true })
      .catch(() => undefined);
  await world?.dispose();
});

/** A plain container (not made by Kai): services cover every container of the engine. */
async function container(
  options: { cmd?: string[]; image?: string; labels?: Record<string, string>; ports?: boolean } = {},
) {
  const name = uniqueName("kai-e2e-svc-");
  const made = await world.docker.createContainer({
    name,
    Image: options.image ?? world.image,
    Cmd: options.cmd ?? [
      "/bin/sh",
      "-c",
      "echo started; echo 'ERROR something broke' >&2; while true; do sleep 1; done",
    ],
    Labels: options.labels ?? {},
    ...(options.ports
      ? {
          ExposedPorts: { "8080/tcp": {} },
          HostConfig: { PortBindings: { "8080/tcp": [{ HostIp: "127.0.0.1", HostPort: "0" }] } },
        }
      : {}),
  });
  created.push(made.id);
  await made.start();
  return { id: made.id, name };
}

describe("services through the relay", () => {
  it("lists every container of the host with status, health and stats", async () => {
    const { name } = await container({ ports: true });
    const res = await world.api("/api/services?filter=running&limit=500");
    expect(res.status).toBe(200);
    expect(res.headers.get("x-ratelimit-limit")).toBeTruthy();
    const found = res.body.data.find((svc: { name: string }) => svc.name === name);
    expect(found).toMatchObject({
      id: name,
      status: "running",
      health: "none",
      url: expect.stringMatching(/^http:\/\/localhost:\d+$/),
    });
    expect(found.stats).toEqual({
      cpu: expect.any(Number),
      memory: expect.any(Number),
      uptime: expect.any(Number),
      restartCount: 0,
    });
    const stopped = await world.api("/api/services?filter=stopped&limit=500");
    expect(stopped.body.data.every((svc: { status: string }) => svc.status !== "running")).toBe(true);
    // The page's one container is the engine's first by name, which another file may remove
    // between the agent's list and its inspect (it is then left out, not shown stale): asked again.
    let total = 0;
    await until(
      async () => {
        const paged = await world.api("/api/services?limit=1&page=1");
        total = Number(paged.headers.get("x-total-count"));
        return paged.body.data.length === 1;
      },
      20_000,
      "a page of one service",
    );
    expect(total).toBeGreaterThanOrEqual(1);
  });

  it("shows one service by name with details, and 404s an unknown one", async () => {
    const { name, id } = await container({ labels: { "org.opencontainers.image.description": "a test service" } });
    const res = await world.api(`/api/services/${name}`);
    expect(res.body.data).toMatchObject({
      name,
      containerId: id.slice(0, 12),
      description: "a test service",
      details: { image: world.image },
    });
    expect(Date.parse(res.body.data.details.created)).not.toBeNaN();
    expect(Array.isArray(res.body.data.details.env)).toBe(true);
    const missing = await world.api("/api/services/kai-no-such-service");
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe("CONTAINER_NOT_FOUND");
  });

  it("stops, starts and restarts a service, answering the documented status", async () => {
    const { id } = await container();
    const stopped = await world.api(`/api/services/${id}/stop?timeout=1`, { method: "POST" });
    expect(stopped.body.data).toEqual({ message: "Service stopped successfully", status: "stopped" });
    expect((await world.docker.getContainer(id).inspect()).State.Running).toBe(false);
    const started = await world.api(`/api/services/${id}/start`, { method: "POST" });
    expect(started.body.data).toEqual({ message: "Service started successfully", status: "running" });
    const restarted = await world.api(`/api/services/${id}/restart?timeout=1`, { method: "POST" });
    expect(restarted.body.data).toEqual({ message: "Service restarted successfully", status: "running" });
    expect((await world.docker.getContainer(id).inspect()).State.Running).toBe(true);
  });

  it("returns logs with stdout and stderr separated, timestamps and levels", async () => {
    const { id } = await container();
    await new Promise((resolve) => setTimeout(resolve, 500));
    const res = await world.api(`/api/services/${id}/logs?lines=10`);
    const logs = res.body.data.logs as { message: string; stream: string; level: string; timestamp: string }[];
    expect(logs).toContainEqual(expect.objectContaining({ message: "started", stream: "stdout", level: "info" }));
    expect(logs).toContainEqual(
      expect.objectContaining({ message: "ERROR something broke", stream: "stderr", level: "error" }),
    );
    expect(logs.every((line) => !Number.isNaN(Date.parse(line.timestamp)))).toBe(true);
    const future = new Date(Date.now() + 60_000).toISOString();
    expect((await world.api(`/api/services/${id}/logs?since=${future}`)).body.data.logs).toEqual([]);
    expect((await world.api(`/api/services/${id}/logs?lines=0`)).status).toBe(400);
  });

  it("follows a log over a WebSocket, and closing it stops the agent's stream at once", async () => {
    const { id } = await container({
      cmd: ["/bin/sh", "-c", "i=0; while true; do i=$((i+1)); echo line-$i; sleep 0.1; done"],
    });
    const seen: number[] = [];
    const socket = new WebSocket(`${world.edge.url.replace("http", "ws")}/api/services/${id}/logs/follow`, {
      headers: { authorization: `Bearer ${world.session.token}` },
    });
    await new Promise<void>((resolve, reject) => {
      socket.on("message", (data) => {
        const frame = streamFrameOf("service.logs.follow", data);
        if (frame.type !== "chunk") return;
        seen.push(Number(frame.data.message.replace("line-", "")));
        if (seen.length === 5) resolve();
      });
      socket.once("error", reject);
    });
    const since = world.agent.lines.length;
    socket.close();
    for (let i = 1; i < seen.length; i++) expect(seen[i]).toBe((seen[i - 1] ?? 0) + 1);
    await world.agent.waitFor(/op=service\.logs\.follow outcome=ok/, 3000, since);

    const plain = await world.api(`/api/services/${id}/logs/follow`);
    expect(plain.status).toBe(400);
    expect(plain.body.error.message).toContain("WebSocket");
  });

  it("resumes a follow with since: every line from that line's time on, none before it", async () => {
    const { id } = await container({
      cmd: ["/bin/sh", "-c", "for i in 1 2 3 4 5; do echo resume-$i; sleep 0.01; done; while true; do sleep 1; done"],
    });
    let logs: { timestamp: string; message: string }[] = [];
    await until(async () => {
      logs = (await world.api(`/api/services/${id}/logs?lines=10`)).body.data.logs;
      return logs.length === 5;
    });
    const third = logs[2];
    if (!third) throw new Error("no third line");
    const socket = new WebSocket(
      `${world.edge.url.replace("http", "ws")}/api/services/${id}/logs/follow?since=${encodeURIComponent(third.timestamp)}`,
      { headers: { authorization: `Bearer ${world.session.token}` } },
    );
    const seen: string[] = [];
    await new Promise<void>((resolve, reject) => {
      socket.on("message", (data) => {
        const frame = streamFrameOf("service.logs.follow", data);
        if (frame.type === "chunk") seen.push(frame.data.message);
        if (seen.length === 3) resolve();
      });
      socket.once("error", reject);
    });
    socket.close();
    expect(seen).toEqual(["resume-3", "resume-4", "resume-5"]);
  });

  it("reports stats and system stats", async () => {
    const { id } = await container();
    const stats = (await world.api(`/api/services/${id}/stats`)).body.data;
    expect(stats.cpu).toBeGreaterThanOrEqual(0);
    expect(stats.memory).toBeGreaterThanOrEqual(0);
    expect(stats.memory).toBeLessThanOrEqual(100);
    expect(stats.memoryUsage).toBeGreaterThan(0);
    expect(stats.memoryLimit).toBeGreaterThan(0);
    const system = (await world.api("/api/system/stats")).body.data;
    expect(system.services.total).toBeGreaterThanOrEqual(1);
    expect(system.services.running).toBeGreaterThanOrEqual(1);
    expect(["healthy", "degraded", "unhealthy"]).toContain(system.health.status);
  });

  it("updates a service to a newer local image under the same tag, keeping its name, env and labels", async () => {
    const tag = `kai-e2e-update-${process.pid}:1`;
    const [repo, version] = tag.split(":") as [string, string];
    await world.docker.getImage(world.image).tag({ repo, tag: version });
    images.push(tag);
    const name = uniqueName("kai-e2e-upd-");
    const original = await world.docker.createContainer({
      name,
      Image: tag,
      Env: ["KEEP=me"],
      Labels: { team: "kai" },
      HostConfig: { RestartPolicy: { Name: "unless-stopped" } },
    });
    created.push(original.id);
    await original.start();

    const current = await world.api(`/api/services/${name}/update?timeout=1`, { method: "POST" });
    expect(current.status).toBe(502);
    expect(current.body.error.code).toBe("NETWORK_ERROR");
    expect((await world.docker.getContainer(name).inspect()).Id).toBe(original.id);

    // A newer image under the same tag, as a pull would have brought.
    await original.commit({ repo, tag: version, changes: ["LABEL org.opencontainers.image.version=2.0.0"] });
    const updated = await world.api(`/api/services/${name}/update?timeout=1`, { method: "POST" });
    expect(updated.status).toBe(200);
    expect(updated.body.data).toMatchObject({
      message: "Service updated successfully",
      updated: true,
      version: "2.0.0",
    });
    const after = await world.docker.getContainer(name).inspect();
    created.push(after.Id);
    expect(after.Id).not.toBe(original.id);
    expect(after.State.Running).toBe(true);
    expect(after.Config.Env).toContain("KEEP=me");
    expect(after.Config.Labels.team).toBe("kai");
    expect(after.HostConfig.RestartPolicy?.Name).toBe("unless-stopped");
    await expect(world.docker.getContainer(original.id).inspect()).rejects.toMatchObject({ statusCode: 404 });
  });
});
