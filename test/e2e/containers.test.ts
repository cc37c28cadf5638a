import { mkdir } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { request, signUp, uniqueName } from "../support/kai-client";
import { createWorld, type World } from "./world";

let world: World;
beforeAll(async () => {
  world = await createWorld();
});
afterAll(async () => world?.dispose());

async function createFlexy(name: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
  const hostPath = path.join(world.root, name);
  await mkdir(hostPath, { recursive: true });
  return world.api("/api/flexy", {
    body: { name, image: world.image, hostPath, containerPath: "/workspace", env: { GREETING: "hello" }, ...extra },
    headers,
  });
}

describe("containers through the relay, checked against the real engine", () => {
  it("runs the whole lifecycle: create, details, start, stop, restart, delete", async () => {
    const name = uniqueName("kai-e2e-life-");
    const created = await createFlexy(name, { ports: [{ containerPort: 8080 }] });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      success: true,
      message: "Container created successfully",
      data: {
        name,
        status: "created",
        image: world.image,
        hostPath: path.join(world.root, name),
        containerPath: "/workspace",
      },
    });
    const id: string = created.body.data.id;

    // The engine really has it, with Kai's labels, the bind mount and the env.
    const inspected = await world.docker.getContainer(id).inspect();
    expect(inspected.Config.Labels).toMatchObject({ "kai.managed": "true", "kai.host": world.host.id });
    expect(inspected.Mounts).toEqual([
      expect.objectContaining({
        Type: "bind",
        Source: path.join(world.root, name),
        Destination: "/workspace",
        RW: true,
      }),
    ]);
    expect(inspected.Config.Env).toContain("GREETING=hello");
    expect(inspected.HostConfig.Privileged).toBe(false);

    const started = await world.api(`/api/flexy/${id}/start`, { method: "POST" });
    expect(started.body).toMatchObject({
      success: true,
      data: { id, status: "starting" },
      message: "Container start request submitted",
    });
    expect((await world.docker.getContainer(id).inspect()).State.Running).toBe(true);

    const details = await world.api(`/api/flexy/${id}`);
    expect(details.status).toBe(200);
    expect(details.body.data).toMatchObject({ id, name, status: "running" });
    expect(details.body.data.volumes).toEqual([
      { hostPath: path.join(world.root, name), containerPath: "/workspace", mode: "rw" },
    ]);
    expect(details.body.data.ports).toEqual([{ hostPort: expect.any(Number), containerPort: 8080 }]);
    expect(details.body.data.ports[0].hostPort).toBeGreaterThan(0);

    const stopped = await world.api(`/api/flexy/${id}/stop?timeout=1`, { method: "POST" });
    expect(stopped.body).toMatchObject({
      data: { id, status: "stopping" },
      message: "Container stop request submitted",
    });
    expect((await world.docker.getContainer(id).inspect()).State.Running).toBe(false);

    const restarted = await world.api(`/api/flexy/${id}/restart?timeout=1`, { method: "POST" });
    expect(restarted.body).toMatchObject({
      data: { id, status: "restarting" },
      message: "Container restart request submitted",
    });
    expect((await world.docker.getContainer(id).inspect()).State.Running).toBe(true);

    const deleted = await world.api(`/api/flexy/${id}`, { method: "DELETE" });
    expect(deleted.body).toMatchObject({ success: true, data: { id }, message: "Container deleted successfully" });
    await expect(world.docker.getContainer(id).inspect()).rejects.toMatchObject({ statusCode: 404 });
  });

  it("lists only Kai containers of this host, with status filter, paging and total", async () => {
    const names = [uniqueName("kai-e2e-list-a-"), uniqueName("kai-e2e-list-b-"), uniqueName("kai-e2e-list-c-")];
    const ids: string[] = [];
    for (const name of names) ids.push((await createFlexy(name)).body.data.id);
    await world.api(`/api/flexy/${ids[0]}/start`, { method: "POST" });
    // A container Kai did not make, on the same engine, stays invisible.
    const foreign = await world.docker.createContainer({ name: uniqueName("not-kai-"), Image: world.image });

    try {
      const all = await world.api("/api/flexy?limit=100");
      const listed = all.body.data.containers.map((container: { id: string }) => container.id);
      expect(listed).toEqual(expect.arrayContaining(ids));
      expect(listed).not.toContain(foreign.id);
      expect(all.body.data).toMatchObject({ total: all.body.data.containers.length, limit: 100, offset: 0 });

      const running = await world.api("/api/flexy?status=running&limit=100");
      expect(running.body.data.containers.map((container: { id: string }) => container.id)).toContain(ids[0]);
      expect(
        running.body.data.containers.every((container: { status: string }) => container.status === "running"),
      ).toBe(true);
      const stopped = await world.api("/api/flexy?status=stopped&limit=100");
      expect(stopped.body.data.containers.map((container: { id: string }) => container.id)).toEqual(
        expect.arrayContaining([ids[1], ids[2]]),
      );

      const page = await world.api("/api/flexy?limit=1&offset=1");
      expect(page.body.data.containers).toHaveLength(1);
      expect(page.body.data).toMatchObject({ limit: 1, offset: 1, total: all.body.data.total });
      const defaults = await world.api("/api/flexy");
      expect(defaults.body.data).toMatchObject({ limit: 10, offset: 0 });

      const bad = await world.api("/api/flexy?status=sleeping");
      expect(bad.status).toBe(400);
      expect(bad.body.error.code).toBe("VALIDATION_ERROR");
    } finally {
      await foreign.remove({ force: true });
      for (const id of ids) await world.api(`/api/flexy/${id}`, { method: "DELETE" });
    }
  });

  it("answers a taken name with CONFLICT and an unknown id with CONTAINER_NOT_FOUND", async () => {
    const name = uniqueName("kai-e2e-dup-");
    const first = await createFlexy(name);
    const second = await createFlexy(name);
    expect(second.status).toBe(409);
    expect(second.body.error.code).toBe("CONFLICT");

    for (const [method, suffix] of [
      ["GET", ""],
      ["DELETE", ""],
      ["POST", "/start"],
      ["POST", "/stop"],
      ["POST", "/restart"],
    ] as const) {
      const res = await world.api(`/api/flexy/0123456789ab${suffix}`, { method });
      expect(res.status, `${method} ${suffix}`).toBe(404);
      expect(res.body.error.code).toBe("CONTAINER_NOT_FOUND");
    }
    // A container that is not Kai's is not found either, even by its real id.
    const foreign = await world.docker.createContainer({ name: uniqueName("not-kai-"), Image: world.image });
    const hidden = await world.api(`/api/flexy/${foreign.id}`);
    expect(hidden.body.error.code).toBe("CONTAINER_NOT_FOUND");
    await foreign.remove({ force: true });
    await world.api(`/api/flexy/${first.body.data.id}`, { method: "DELETE" });
  });

  it("validates create input before relaying anything", async () => {
    const cases = [
      { name: "bad name!", image: world.image, hostPath: world.root },
      { name: "ok-name", image: "--privileged", hostPath: world.root },
      { name: "ok-name", image: world.image, hostPath: "relative/path" },
      { name: "ok-name", image: world.image, hostPath: world.root, env: { "BAD-NAME": "x" } },
      { name: "ok-name", image: world.image, hostPath: world.root, privileged: true },
      { name: "ok-name", image: world.image },
    ];
    for (const body of cases) {
      const res = await world.api("/api/flexy", { body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe("VALIDATION_ERROR");
    }
  });

  it("answers an image the host does not have with VALIDATION_ERROR saying what to do", async () => {
    const res = await world.api("/api/flexy", {
      body: { name: uniqueName("kai-e2e-noimg-"), image: "kai-no-such-image:never", hostPath: world.root },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("VALIDATION_ERROR");
    expect(res.body.error.message).toContain("docker pull kai-no-such-image:never");
  });

  it("replays POST /api/flexy with the same Idempotency-Key instead of creating twice", async () => {
    const name = uniqueName("kai-e2e-idem-");
    const key = uniqueName("key-");
    const first = await createFlexy(name, {}, { "Idempotency-Key": key });
    const again = await createFlexy(name, {}, { "Idempotency-Key": key });
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(again.body.data.id).toBe(first.body.data.id);
    const onEngine = await world.docker.listContainers({ all: true, filters: { name: [name] } });
    expect(onEngine).toHaveLength(1);

    const reused = await createFlexy(uniqueName("kai-e2e-other-"), {}, { "Idempotency-Key": key });
    expect(reused.status).toBe(409);
    expect(reused.body.error.code).toBe("CONFLICT");
    await world.api(`/api/flexy/${first.body.data.id}`, { method: "DELETE" });
  });

  it("records every relayed command in the audit log, with the request id the agent logged", async () => {
    await world.api("/api/flexy");
    const audit = await world.api("/api/audit?limit=5");
    expect(audit.status).toBe(200);
    const entry = audit.body.data.entries.find((row: { op: string }) => row.op === "container.list");
    expect(entry).toMatchObject({ hostId: world.host.id, outcome: "ok", requestId: expect.any(String) });
    expect(entry.durationMs).toBeGreaterThanOrEqual(0);
    await world.agent.waitFor(new RegExp(`request=${entry.requestId} op=container.list outcome=ok`), 5000);

    const failed = audit.body.data.entries.length;
    expect(failed).toBeGreaterThan(0);
    await world.api("/api/flexy/0123456789ab");
    const after = await world.api("/api/audit?limit=1");
    expect(after.body.data.entries[0]).toMatchObject({ op: "container.inspect", outcome: "CONTAINER_NOT_FOUND" });
  });

  it("shows a second user nothing of the first: hosts, containers, catalog, audit", async () => {
    const name = uniqueName("kai-e2e-private-");
    const created = await createFlexy(name);
    const stranger = await signUp(world.edge.url);
    const as = (apiPath: string, init: { method?: string; body?: unknown; headers?: Record<string, string> } = {}) =>
      request(world.edge.url, apiPath, { token: stranger.token, ...init });

    expect((await as("/api/hosts")).body.data.hosts).toEqual([]);
    const viaHeader = await as("/api/flexy", { headers: { "X-Kai-Host": world.host.id } });
    expect(viaHeader.status).toBe(404);
    expect(viaHeader.body.error.code).toBe("NOT_FOUND");
    expect((await as(`/api/flexy?host=${world.host.id}`)).status).toBe(404);
    expect((await as(`/api/hosts/${world.host.id}`)).status).toBe(404);
    expect((await as(`/api/hosts/${world.host.id}`, { method: "DELETE" })).status).toBe(404);
    expect((await as(`/api/hosts/${world.host.id}`, { method: "PATCH", body: { name: "mine-now" } })).status).toBe(404);
    const noHost = await as("/api/flexy");
    expect(noHost.status).toBe(400);
    expect(noHost.body.error.message).toContain("POST /api/hosts");
    expect((await as("/api/audit")).body.data.entries).toEqual([]);
    expect((await as("/api/catalog/flexy")).body.data.items).toEqual([]);
    await world.api(`/api/flexy/${created.body.data.id}`, { method: "DELETE" });
  });
});
