import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { createDockerClient } from "../../agent/runtime/docker/client";
import { type ContainerWorld, containerWorld, ONE_CONTAINER_OPS } from "../support/container-world";
import { engineInspect, kaiError } from "../support/service-world";
import { setupOrFail } from "../support/setup-or-fail";

/**
 * The container handlers against the real engine: the lifecycle, the list, the errors and
 * the engine's info. What a host must not reach or see is in agent-containers-security.test.ts.
 */

let world: ContainerWorld;

const setup = setupOrFail(async () => {
  world = await containerWorld();
});
afterEach(async () => {
  if (setup.ready) await world.removeContainers();
});
afterAll(async () => {
  await world?.close();
});

/** A folder under the allowed root holding `files`. */
async function workspace(name: string, files: Record<string, string> = {}): Promise<string> {
  const dir = path.join(world.root, name);
  await fs.mkdir(dir, { recursive: true });
  for (const [file, text] of Object.entries(files)) await fs.writeFile(path.join(dir, file), text);
  return dir;
}

/** Runs a command in a running container and returns what it printed. */
async function execIn(id: string, cmd: string[]): Promise<string> {
  const exec = await world.docker
    .getContainer(id)
    .exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true, Tty: true });
  const stream = await exec.start({ hijack: true, stdin: false, Tty: true });
  const chunks: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("end", resolve);
    stream.on("error", reject);
  });
  return Buffer.concat(chunks).toString("utf8");
}

async function fetchWithRetry(url: string, timeoutMs = 5_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1_000) });
      if (res.ok) return await res.text();
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
    if (Date.now() > deadline) throw new Error(`no answer from ${url}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("container lifecycle against the real engine", () => {
  it("creates with bind, ports and env, then starts, stops, restarts and removes", async () => {
    const hostPath = await workspace("lifecycle", { "hello.txt": "hello from the host\n" });
    const name = world.name("life");
    const created = await world.call("container.create", {
      name,
      image: world.image,
      hostPath,
      containerPath: "/workspace",
      env: { GREETING: "hi there", KAI_MODE: "test" },
      ports: [{ containerPort: 8080 }],
      labels: { "kai.project": "demo" },
    });
    expect(created).toMatchObject({
      name,
      status: "created",
      image: world.image,
      hostPath,
      containerPath: "/workspace",
    });
    expect(Number.isNaN(Date.parse(created.createdAt))).toBe(false);

    // What the engine really holds.
    const engine = await engineInspect(world.docker, created.id);
    expect(engine).not.toBeNull();
    expect(engine!.Name).toBe(`/${name}`);
    expect(engine!.Mounts).toEqual([
      expect.objectContaining({ Type: "bind", Source: hostPath, Destination: "/workspace", RW: true }),
    ]);
    expect(engine!.HostConfig.PortBindings).toEqual({ "8080/tcp": [{ HostIp: "127.0.0.1", HostPort: "" }] });
    expect(engine!.Config.Env).toEqual(expect.arrayContaining(["GREETING=hi there", "KAI_MODE=test"]));
    expect(engine!.Config.Labels).toMatchObject({
      "kai.managed": "true",
      "kai.host": world.hostId,
      "kai.hostPath": hostPath,
      "kai.containerPath": "/workspace",
      "kai.project": "demo",
    });
    expect(engine!.HostConfig.Privileged).toBe(false);
    expect(engine!.HostConfig.CapAdd ?? []).toEqual([]);
    expect(engine!.HostConfig.Devices ?? []).toEqual([]);
    expect(engine!.HostConfig.PidMode ?? "").toBe("");
    expect(engine!.HostConfig.NetworkMode).not.toBe("host");
    expect(engine!.State.Status).toBe("created");

    const beforeStart = await world.call("container.inspect", { id: created.id });
    expect(beforeStart).toMatchObject({
      id: created.id,
      status: "created",
      ports: [{ hostPort: 0, containerPort: 8080 }],
    });
    expect(beforeStart.volumes).toEqual([{ hostPath, containerPath: "/workspace", mode: "rw" }]);

    expect(await world.call("container.start", { id: created.id })).toEqual({ id: created.id, status: "running" });
    const running = await engineInspect(world.docker, created.id);
    expect(running!.State.Running).toBe(true);
    const published = running!.NetworkSettings.Ports["8080/tcp"];
    expect(published?.[0]?.HostIp).toBe("127.0.0.1");
    const hostPort = Number(published?.[0]?.HostPort);
    expect(hostPort).toBeGreaterThan(0);

    const details = await world.call("container.inspect", { id: name });
    expect(details).toMatchObject({ id: created.id, status: "running", ports: [{ hostPort, containerPort: 8080 }] });

    // The bind, the env and the published port work, not just their configuration.
    expect(
      await execIn(created.id, [
        "sh",
        "-c",
        'echo "$GREETING"; cat /workspace/hello.txt; echo written > /workspace/out.txt',
      ]),
    ).toContain("hi there\r\nhello from the host");
    expect(await fs.readFile(path.join(hostPath, "out.txt"), "utf8")).toBe("written\n");
    await execIn(created.id, ["httpd", "-p", "8080", "-h", "/workspace"]);
    expect(await fetchWithRetry(`http://127.0.0.1:${hostPort}/hello.txt`)).toBe("hello from the host\n");

    const stopStarted = Date.now();
    expect(await world.call("container.stop", { id: created.id, timeoutSeconds: 1 })).toEqual({
      id: created.id,
      status: "stopped",
    });
    expect(Date.now() - stopStarted).toBeLessThan(8_000);
    const stopped = await engineInspect(world.docker, created.id);
    expect(stopped!.State.Running).toBe(false);
    expect(stopped!.State.Status).toBe("exited");

    // Stopping a stopped container is not an error (Docker answers 304).
    expect(await world.call("container.stop", { id: created.id, timeoutSeconds: 1 })).toEqual({
      id: created.id,
      status: "stopped",
    });

    expect(await world.call("container.restart", { id: created.id, timeoutSeconds: 1 })).toEqual({
      id: created.id,
      status: "running",
    });
    expect((await engineInspect(world.docker, created.id))!.State.Running).toBe(true);
    // Starting a running one is not an error either.
    expect(await world.call("container.start", { id: created.id })).toEqual({ id: created.id, status: "running" });
    expect(await world.call("container.restart", { id: created.id, timeoutSeconds: 1 })).toEqual({
      id: created.id,
      status: "running",
    });

    // Remove force-stops a running container.
    expect(await world.call("container.remove", { id: created.id })).toEqual({ id: created.id });
    expect(await engineInspect(world.docker, created.id)).toBeNull();
    expect((await kaiError(world.call("container.inspect", { id: created.id }))).code).toBe("CONTAINER_NOT_FOUND");
  });

  it("binds the real path when hostPath goes through a symlink inside the root", async () => {
    const real = await workspace("real-project");
    const link = path.join(world.root, "project-link");
    await fs.symlink(real, link);
    const created = await world.call("container.create", world.createParams({ hostPath: link }));
    expect(created.hostPath).toBe(real);
    const engine = await engineInspect(world.docker, created.id);
    expect(engine!.Mounts[0]?.Source).toBe(real);
  });
});

describe("container.list", () => {
  it("lists only this host's Kai containers, newest first, with status filter, paging and total", async () => {
    const a = await world.call("container.create", world.createParams({ name: world.name("a") }));
    const b = await world.call("container.create", world.createParams({ name: world.name("b") }));
    const c = await world.call("container.create", world.createParams({ name: world.name("c") }));
    await world.call("container.start", { id: b.id });
    await world.call("container.start", { id: c.id });
    await world.docker.getContainer(c.id).pause();

    const all = await world.call("container.list", { limit: 100, offset: 0 });
    expect(all.total).toBe(3);
    expect(all.containers.map((item) => item.id)).toEqual([c.id, b.id, a.id]);
    expect(all.containers.map((item) => item.status)).toEqual(["paused", "running", "created"]);
    expect(all.containers[0]).toMatchObject({
      name: c.name,
      image: world.image,
      hostPath: world.root,
      containerPath: "/workspace",
      createdAt: c.createdAt,
    });

    expect(await world.call("container.list", { status: "running", limit: 10, offset: 0 })).toMatchObject({
      total: 1,
      containers: [{ id: b.id }],
    });
    expect(await world.call("container.list", { status: "paused", limit: 10, offset: 0 })).toMatchObject({
      total: 1,
      containers: [{ id: c.id }],
    });
    // `stopped` covers created, exited and dead.
    expect(await world.call("container.list", { status: "stopped", limit: 10, offset: 0 })).toMatchObject({
      total: 1,
      containers: [{ id: a.id }],
    });
    await world.docker.getContainer(c.id).unpause();
    await world.call("container.stop", { id: c.id, timeoutSeconds: 1 });
    const stopped = await world.call("container.list", { status: "stopped", limit: 10, offset: 0 });
    expect(stopped.total).toBe(2);
    expect(stopped.containers.map((item) => item.id)).toEqual([c.id, a.id]);

    const page1 = await world.call("container.list", { limit: 2, offset: 0 });
    expect(page1.total).toBe(3);
    expect(page1.containers.map((item) => item.id)).toEqual([c.id, b.id]);
    const page2 = await world.call("container.list", { limit: 2, offset: 2 });
    expect(page2).toMatchObject({ total: 3, containers: [{ id: a.id }] });
    expect(await world.call("container.list", { limit: 2, offset: 10 })).toEqual({ total: 3, containers: [] });
  });

  it("is empty for a host with no containers", async () => {
    expect(
      await world.call("container.list", { limit: 10, offset: 0 }, world.ctx({ hostId: `nobody-${world.run}` })),
    ).toEqual({
      total: 0,
      containers: [],
    });
  });
});

describe("container errors", () => {
  it("answers CONFLICT with Docker's message when the name is taken", async () => {
    const name = world.name("taken");
    const first = await world.call("container.create", world.createParams({ name }));
    const error = await kaiError(world.call("container.create", world.createParams({ name })));
    expect(error.code).toBe("CONFLICT");
    expect(error.message).toContain("already in use");
    expect(error.stack ?? "").not.toContain("docker-modem");
    // Only the first one exists.
    expect((await world.call("container.list", { limit: 10, offset: 0 })).containers.map((item) => item.id)).toEqual([
      first.id,
    ]);
  });

  it("answers CONTAINER_NOT_FOUND for an unknown id or name, whatever the action", async () => {
    const id = "0123456789ab";
    for (const op of ONE_CONTAINER_OPS) {
      const error = await kaiError(world.call(op, { id }));
      expect(error.code, op).toBe("CONTAINER_NOT_FOUND");
      expect(error.message).toContain(id);
    }
    expect((await kaiError(world.call("container.inspect", { id: world.name("never") }))).code).toBe(
      "CONTAINER_NOT_FOUND",
    );
  });

  it("answers a clear VALIDATION_ERROR and creates nothing when the image is not on this host", async () => {
    const name = world.name("noimage");
    const missing = `kai-test-missing-${world.run}:never`;
    const error = await kaiError(world.call("container.create", world.createParams({ name, image: missing })));
    expect(error.code).toBe("VALIDATION_ERROR");
    expect(error.message).toContain(`image ${missing} is not on this host, and Kai does not pull images`);
    expect(await engineInspect(world.docker, name)).toBeNull();
  });

  it("refuses a hostPath that is not an existing directory", async () => {
    const file = path.join(world.root, "a-file.txt");
    await fs.writeFile(file, "x");
    expect(
      (
        await kaiError(
          world.call("container.create", world.createParams({ hostPath: path.join(world.root, "missing") })),
        )
      ).code,
    ).toBe("VALIDATION_ERROR");
    expect((await kaiError(world.call("container.create", world.createParams({ hostPath: file })))).code).toBe(
      "VALIDATION_ERROR",
    );
  });

  it("refuses labels that only the agent may set", async () => {
    const error = await kaiError(
      world.call("container.create", world.createParams({ labels: { "kai.host": "someone-else" } })),
    );
    expect(error.code).toBe("VALIDATION_ERROR");
    expect(error.message).toContain("kai.host");
  });
});

describe("docker.info and ping", () => {
  it("reports the engine version", async () => {
    const info = await world.call("docker.info", {});
    expect(info.ok).toBe(true);
    expect(info.version).toBe((await world.docker.version()).Version);
  });

  it("answers ok:false without throwing when the engine is unreachable", async () => {
    const info = await world.call(
      "docker.info",
      {},
      world.ctx({ docker: createDockerClient({ socketPath: path.join(world.tmp, "no-such.sock") }) }),
    );
    expect(info).toMatchObject({ ok: false, version: null });
    expect(info.error).toContain("unreachable");
  });

  it("maps an unreachable engine to DOCKER_ERROR on container ops", async () => {
    const error = await kaiError(
      world.call(
        "container.list",
        { limit: 10, offset: 0 },
        world.ctx({ docker: createDockerClient({ socketPath: path.join(world.tmp, "no-such.sock") }) }),
      ),
    );
    expect(error.code).toBe("DOCKER_ERROR");
    expect(error.message).toMatch(/unreachable.*start/);
  });

  it("pongs", async () => {
    const answer = await world.call("ping", {});
    expect(answer.pong).toBe(true);
    expect(Math.abs(Date.parse(answer.agentTime) - Date.now())).toBeLessThan(5_000);
  });
});
