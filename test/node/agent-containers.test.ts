import { randomUUID } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type Docker from "dockerode";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { handlers } from "../../agent/handlers";
import type { HandlerContext } from "../../agent/handlers/types";
import type { Policy } from "../../agent/policy";
import { AgentSessions } from "../../agent/runtime/acp/agent-sessions";
import { createDockerClient } from "../../agent/runtime/docker/client";
import { LiveStats } from "../../agent/runtime/docker/live-stats";
import type { ResultOf } from "../../shared/command-replies";
import type { Op, ParamsOf } from "../../shared/commands";
import { busyboxImage, requireDocker } from "../support/busybox-image";
import { type DockerProxy, startDockerProxy } from "../support/docker-proxy";
import { kaiError } from "../support/service-world";
import { setupOrFail } from "../support/setup-or-fail";
import { call as checkedCall } from "../support/workspace-handlers";

/**
 * The container handlers against the real engine. Every container made here carries this
 * run's host id (Kai's own) or the `kai-test.run` label (plain dockerode), and is removed
 * after each test; the engine is shared with other processes.
 */

const docker = createDockerClient();
const liveStats = new LiveStats(docker);
const RUN = randomUUID().slice(0, 8);
const HOST_ID = `test-host-${RUN}`;
const TEST_LABEL = "kai-test.run";
let image: string;
let tmp: string;
let root: string;
let policy: Policy;
let proxy: DockerProxy;
let counter = 0;

const uniqueName = (what: string) => `kai-test-${RUN}-${what}-${++counter}`;

function ctx(overrides: Partial<HandlerContext> = {}): HandlerContext {
  return {
    requestId: randomUUID(),
    hostId: HOST_ID,
    policy,
    docker,
    liveStats,
    agentSessions: new AgentSessions({ profiles: [] }),
    signal: new AbortController().signal,
    emit: () => undefined,
    ...overrides,
  };
}

/** Calls a handler the way the rpc layer will: params and result checked against the table. */
function call<O extends Op>(op: O, params: ParamsOf<O>, context: HandlerContext = ctx()): Promise<ResultOf<O>> {
  return checkedCall(handlers, op, params, context);
}

/** The engine's own view, or null when it has no such container. */
async function engineInspect(ref: string): Promise<Docker.ContainerInspectInfo | null> {
  try {
    return await docker.getContainer(ref).inspect();
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return null;
    throw error;
  }
}

async function workspace(name: string, files: Record<string, string> = {}): Promise<string> {
  const dir = path.join(root, name);
  await fs.mkdir(dir, { recursive: true });
  for (const [file, text] of Object.entries(files)) await fs.writeFile(path.join(dir, file), text);
  return dir;
}

function createParams(overrides: Partial<ParamsOf<"container.create">> = {}): ParamsOf<"container.create"> {
  return { name: uniqueName("c"), image, hostPath: root, containerPath: "/workspace", env: {}, ...overrides };
}

/** Runs a command in a running container and returns what it printed. */
async function execIn(id: string, cmd: string[]): Promise<string> {
  const exec = await docker.getContainer(id).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true, Tty: true });
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

async function removeTestContainers(): Promise<void> {
  const found = await Promise.all([
    docker.listContainers({ all: true, filters: { label: [`kai.host=${HOST_ID}`] } }),
    docker.listContainers({ all: true, filters: { label: [`${TEST_LABEL}=${RUN}`] } }),
  ]);
  await Promise.all(
    found.flat().map((info) =>
      docker
        .getContainer(info.Id)
        .remove({ force: true, v: true })
        .catch(() => undefined),
    ),
  );
}

const setup = setupOrFail(async () => {
  tmp = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), "kai-containers-")));
  root = path.join(tmp, "root");
  await fs.mkdir(root);
  policy = { allowedRoots: [root], maxDirectoryEntries: 1000 };
  await requireDocker(docker);
  image = await busyboxImage(docker);
  proxy = await startDockerProxy();
});

afterEach(async () => {
  if (setup.ready) await removeTestContainers();
});

afterAll(async () => {
  if (setup.ready) await removeTestContainers();
  await proxy?.close();
  if (tmp) await fs.rm(tmp, { recursive: true, force: true });
});

describe("container lifecycle against the real engine", () => {
  it("creates with bind, ports and env, then starts, stops, restarts and removes", async () => {
    const hostPath = await workspace("lifecycle", { "hello.txt": "hello from the host\n" });
    const name = uniqueName("life");
    const created = await call("container.create", {
      name,
      image,
      hostPath,
      containerPath: "/workspace",
      env: { GREETING: "hi there", KAI_MODE: "test" },
      ports: [{ containerPort: 8080 }],
      labels: { "kai.project": "demo" },
    });
    expect(created).toMatchObject({ name, status: "created", image, hostPath, containerPath: "/workspace" });
    expect(Number.isNaN(Date.parse(created.createdAt))).toBe(false);

    // What the engine really holds.
    const engine = await engineInspect(created.id);
    expect(engine).not.toBeNull();
    expect(engine!.Name).toBe(`/${name}`);
    expect(engine!.Mounts).toEqual([
      expect.objectContaining({ Type: "bind", Source: hostPath, Destination: "/workspace", RW: true }),
    ]);
    expect(engine!.HostConfig.PortBindings).toEqual({ "8080/tcp": [{ HostIp: "127.0.0.1", HostPort: "" }] });
    expect(engine!.Config.Env).toEqual(expect.arrayContaining(["GREETING=hi there", "KAI_MODE=test"]));
    expect(engine!.Config.Labels).toMatchObject({
      "kai.managed": "true",
      "kai.host": HOST_ID,
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

    const beforeStart = await call("container.inspect", { id: created.id });
    expect(beforeStart).toMatchObject({
      id: created.id,
      status: "created",
      ports: [{ hostPort: 0, containerPort: 8080 }],
    });
    expect(beforeStart.volumes).toEqual([{ hostPath, containerPath: "/workspace", mode: "rw" }]);

    expect(await call("container.start", { id: created.id })).toEqual({ id: created.id, status: "running" });
    const running = await engineInspect(created.id);
    expect(running!.State.Running).toBe(true);
    const published = running!.NetworkSettings.Ports["8080/tcp"];
    expect(published?.[0]?.HostIp).toBe("127.0.0.1");
    const hostPort = Number(published?.[0]?.HostPort);
    expect(hostPort).toBeGreaterThan(0);

    const details = await call("container.inspect", { id: name });
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
    expect(await call("container.stop", { id: created.id, timeoutSeconds: 1 })).toEqual({
      id: created.id,
      status: "stopped",
    });
    expect(Date.now() - stopStarted).toBeLessThan(8_000);
    const stopped = await engineInspect(created.id);
    expect(stopped!.State.Running).toBe(false);
    expect(stopped!.State.Status).toBe("exited");

    // Stopping a stopped container is not an error (Docker answers 304).
    expect(await call("container.stop", { id: created.id, timeoutSeconds: 1 })).toEqual({
      id: created.id,
      status: "stopped",
    });

    expect(await call("container.restart", { id: created.id, timeoutSeconds: 1 })).toEqual({
      id: created.id,
      status: "running",
    });
    expect((await engineInspect(created.id))!.State.Running).toBe(true);
    // Starting a running one is not an error either.
    expect(await call("container.start", { id: created.id })).toEqual({ id: created.id, status: "running" });
    expect(await call("container.restart", { id: created.id, timeoutSeconds: 1 })).toEqual({
      id: created.id,
      status: "running",
    });

    // Remove force-stops a running container.
    expect(await call("container.remove", { id: created.id })).toEqual({ id: created.id });
    expect(await engineInspect(created.id)).toBeNull();
    expect((await kaiError(call("container.inspect", { id: created.id }))).code).toBe("CONTAINER_NOT_FOUND");
  });

  it("binds the real path when hostPath goes through a symlink inside the root", async () => {
    const real = await workspace("real-project");
    const link = path.join(root, "project-link");
    await fs.symlink(real, link);
    const created = await call("container.create", createParams({ hostPath: link }));
    expect(created.hostPath).toBe(real);
    const engine = await engineInspect(created.id);
    expect(engine!.Mounts[0]?.Source).toBe(real);
  });
});

describe("container.list", () => {
  it("lists only this host's Kai containers, newest first, with status filter, paging and total", async () => {
    const a = await call("container.create", createParams({ name: uniqueName("a") }));
    const b = await call("container.create", createParams({ name: uniqueName("b") }));
    const c = await call("container.create", createParams({ name: uniqueName("c") }));
    await call("container.start", { id: b.id });
    await call("container.start", { id: c.id });
    await docker.getContainer(c.id).pause();

    const all = await call("container.list", { limit: 100, offset: 0 });
    expect(all.total).toBe(3);
    expect(all.containers.map((item) => item.id)).toEqual([c.id, b.id, a.id]);
    expect(all.containers.map((item) => item.status)).toEqual(["paused", "running", "created"]);
    expect(all.containers[0]).toMatchObject({
      name: c.name,
      image,
      hostPath: root,
      containerPath: "/workspace",
      createdAt: c.createdAt,
    });

    expect(await call("container.list", { status: "running", limit: 10, offset: 0 })).toMatchObject({
      total: 1,
      containers: [{ id: b.id }],
    });
    expect(await call("container.list", { status: "paused", limit: 10, offset: 0 })).toMatchObject({
      total: 1,
      containers: [{ id: c.id }],
    });
    // `stopped` covers created, exited and dead.
    expect(await call("container.list", { status: "stopped", limit: 10, offset: 0 })).toMatchObject({
      total: 1,
      containers: [{ id: a.id }],
    });
    await docker.getContainer(c.id).unpause();
    await call("container.stop", { id: c.id, timeoutSeconds: 1 });
    const stopped = await call("container.list", { status: "stopped", limit: 10, offset: 0 });
    expect(stopped.total).toBe(2);
    expect(stopped.containers.map((item) => item.id)).toEqual([c.id, a.id]);

    const page1 = await call("container.list", { limit: 2, offset: 0 });
    expect(page1.total).toBe(3);
    expect(page1.containers.map((item) => item.id)).toEqual([c.id, b.id]);
    const page2 = await call("container.list", { limit: 2, offset: 2 });
    expect(page2).toMatchObject({ total: 3, containers: [{ id: a.id }] });
    expect(await call("container.list", { limit: 2, offset: 10 })).toEqual({ total: 3, containers: [] });
  });

  it("is empty for a host with no containers", async () => {
    expect(await call("container.list", { limit: 10, offset: 0 }, ctx({ hostId: `nobody-${RUN}` }))).toEqual({
      total: 0,
      containers: [],
    });
  });
});

describe("container errors", () => {
  it("answers CONFLICT with Docker's message when the name is taken", async () => {
    const name = uniqueName("taken");
    const first = await call("container.create", createParams({ name }));
    const error = await kaiError(call("container.create", createParams({ name })));
    expect(error.code).toBe("CONFLICT");
    expect(error.message).toContain("already in use");
    expect(error.stack ?? "").not.toContain("docker-modem");
    // Only the first one exists.
    expect((await call("container.list", { limit: 10, offset: 0 })).containers.map((item) => item.id)).toEqual([
      first.id,
    ]);
  });

  it("answers CONTAINER_NOT_FOUND for an unknown id or name, whatever the action", async () => {
    const id = "0123456789ab";
    for (const op of [
      "container.inspect",
      "container.start",
      "container.stop",
      "container.restart",
      "container.remove",
    ] as const) {
      const error = await kaiError(call(op, { id }));
      expect(error.code, op).toBe("CONTAINER_NOT_FOUND");
      expect(error.message).toContain(id);
    }
    expect((await kaiError(call("container.inspect", { id: uniqueName("never") }))).code).toBe("CONTAINER_NOT_FOUND");
  });

  it("answers a clear VALIDATION_ERROR and creates nothing when the image is not on this host", async () => {
    const name = uniqueName("noimage");
    const missing = `kai-test-missing-${RUN}:never`;
    const error = await kaiError(call("container.create", createParams({ name, image: missing })));
    expect(error.code).toBe("VALIDATION_ERROR");
    expect(error.message).toContain(`image ${missing} is not on this host, and Kai does not pull images`);
    expect(await engineInspect(name)).toBeNull();
  });

  it("refuses a hostPath that is not an existing directory", async () => {
    const file = path.join(root, "a-file.txt");
    await fs.writeFile(file, "x");
    expect(
      (await kaiError(call("container.create", createParams({ hostPath: path.join(root, "missing") })))).code,
    ).toBe("VALIDATION_ERROR");
    expect((await kaiError(call("container.create", createParams({ hostPath: file })))).code).toBe("VALIDATION_ERROR");
  });

  it("refuses labels that only the agent may set", async () => {
    const error = await kaiError(call("container.create", createParams({ labels: { "kai.host": "someone-else" } })));
    expect(error.code).toBe("VALIDATION_ERROR");
    expect(error.message).toContain("kai.host");
  });
});

describe("containers that are not this host's Kai containers are invisible", () => {
  const strangers: Array<[string, Record<string, string>]> = [
    ["a plain container", {}],
    ["another host's Kai container", { "kai.managed": "true", "kai.host": `other-host-${RUN}` }],
    ["a container labelled with this host but not managed", { "kai.host": HOST_ID }],
  ];

  for (const [what, labels] of strangers) {
    it(what, async () => {
      const name = uniqueName("stranger");
      const stranger = await docker.createContainer({ name, Image: image, Labels: { ...labels, [TEST_LABEL]: RUN } });
      const mine = await call("container.create", createParams());

      const listed = await call("container.list", { limit: 100, offset: 0 });
      expect(listed.containers.map((item) => item.id)).toEqual([mine.id]);
      expect(listed.total).toBe(1);

      for (const ref of [stranger.id, name, stranger.id.slice(0, 12)]) {
        for (const op of [
          "container.inspect",
          "container.start",
          "container.stop",
          "container.restart",
          "container.remove",
        ] as const) {
          const error = await kaiError(call(op, { id: ref }));
          expect(error.code, `${op} ${ref}`).toBe("CONTAINER_NOT_FOUND");
          // The same answer as for a container that does not exist: nothing confirmed.
          expect(error.message).toBe(`container ${ref} not found on this host`);
        }
      }
      const engine = await engineInspect(stranger.id);
      expect(engine?.State.Status).toBe("created");
    });
  }
});

describe("the host policy refuses before anything reaches the engine", () => {
  const refusals: Array<[string, () => Promise<Partial<ParamsOf<"container.create">>>]> = [
    ["a hostPath outside the roots", async () => ({ hostPath: "/etc" })],
    ["a hostPath escaping with ..", async () => ({ hostPath: `${root}/../../etc` })],
    ["the parent of the root", async () => ({ hostPath: `${root}/..` })],
    [
      "a sibling sharing the root's prefix",
      async () => {
        await fs.mkdir(`${root}-evil`, { recursive: true });
        return { hostPath: `${root}-evil` };
      },
    ],
    [
      "a symlink inside the root pointing outside",
      async () => {
        await fs.symlink("/", path.join(root, "to-slash")).catch(() => undefined);
        return { hostPath: path.join(root, "to-slash") };
      },
    ],
    [
      "a path below a symlink pointing outside",
      async () => {
        await fs.symlink("/", path.join(root, "to-slash")).catch(() => undefined);
        return { hostPath: path.join(root, "to-slash", "etc") };
      },
    ],
    ["privileged", async () => ({ security: { privileged: true } })],
    ["capAdd", async () => ({ security: { capAdd: ["SYS_ADMIN"] } })],
    ["pidMode host", async () => ({ security: { pidMode: "host" } })],
    ["networkMode host", async () => ({ security: { networkMode: "host" } })],
    ["ipcMode of another container", async () => ({ security: { ipcMode: "container:abc" } })],
    ["devices", async () => ({ security: { devices: ["/dev/sda:/dev/sda"] } })],
    ["unconfined seccomp", async () => ({ security: { securityOpt: ["seccomp=unconfined"] } })],
    ["unconfined apparmor", async () => ({ security: { securityOpt: ["apparmor=unconfined"] } })],
    ["SELinux labels disabled", async () => ({ security: { securityOpt: ["label=disable"] } })],
    ["extra binds", async () => ({ security: { extraBinds: ["/:/host"] } })],
  ];

  for (const [what, make] of refusals) {
    it(`refuses ${what} with PERMISSION_DENIED`, async () => {
      const name = uniqueName("refused");
      const overrides = await make();
      proxy.reset();
      const throughProxy = ctx({ docker: createDockerClient({ socketPath: proxy.socketPath }) });
      const error = await kaiError(call("container.create", createParams({ name, ...overrides }), throughProxy));
      expect(error.code).toBe("PERMISSION_DENIED");
      if (overrides.hostPath) expect(error.message).toContain(root);
      expect(proxy.requests).toEqual([]);
      expect(proxy.connections).toBe(0);
      expect(await engineInspect(name)).toBeNull();
    });
  }

  it("lists every violation at once", async () => {
    const security = {
      privileged: true,
      capAdd: ["NET_ADMIN"],
      pidMode: "host",
      utsMode: "host",
      usernsMode: "host",
      devices: ["/dev/kmsg"],
      securityOpt: ["seccomp=unconfined", "no-new-privileges"],
      extraBinds: ["/var/run/docker.sock:/var/run/docker.sock"],
    };
    proxy.reset();
    const error = await kaiError(
      call(
        "container.create",
        createParams({ security }),
        ctx({ docker: createDockerClient({ socketPath: proxy.socketPath }) }),
      ),
    );
    expect(error.code).toBe("PERMISSION_DENIED");
    expect(error.details?.violations).toHaveLength(8);
    for (const word of [
      "privileged",
      "capAdd",
      "pidMode",
      "utsMode",
      "usernsMode",
      "devices",
      "seccomp=unconfined",
      "docker.sock",
    ]) {
      expect(error.message).toContain(word);
    }
    expect(proxy.requests).toEqual([]);
  });

  it("lets a request the policy accepts through the same proxy (the proxy does count)", async () => {
    proxy.reset();
    const throughProxy = ctx({ docker: createDockerClient({ socketPath: proxy.socketPath }) });
    const created = await call(
      "container.create",
      createParams({ security: { networkMode: "none", securityOpt: ["no-new-privileges"] } }),
      throughProxy,
    );
    expect(proxy.requests.some((line) => /^POST \/.*containers\/create\?name=/.test(line))).toBe(true);
    const engine = await engineInspect(created.id);
    expect(engine!.HostConfig.NetworkMode).toBe("none");
    expect(engine!.HostConfig.SecurityOpt).toEqual(["no-new-privileges"]);
  });
});

describe("docker.info and ping", () => {
  it("reports the engine version", async () => {
    const info = await call("docker.info", {});
    expect(info.ok).toBe(true);
    expect(info.version).toBe((await docker.version()).Version);
  });

  it("answers ok:false without throwing when the engine is unreachable", async () => {
    const info = await call(
      "docker.info",
      {},
      ctx({ docker: createDockerClient({ socketPath: path.join(tmp, "no-such.sock") }) }),
    );
    expect(info).toMatchObject({ ok: false, version: null });
    expect(info.error).toContain("unreachable");
  });

  it("maps an unreachable engine to DOCKER_ERROR on container ops", async () => {
    const error = await kaiError(
      call(
        "container.list",
        { limit: 10, offset: 0 },
        ctx({ docker: createDockerClient({ socketPath: path.join(tmp, "no-such.sock") }) }),
      ),
    );
    expect(error.code).toBe("DOCKER_ERROR");
    expect(error.message).toMatch(/unreachable.*start/);
  });

  it("pongs", async () => {
    const answer = await call("ping", {});
    expect(answer.pong).toBe(true);
    expect(Math.abs(Date.parse(answer.agentTime) - Date.now())).toBeLessThan(5_000);
  });
});
