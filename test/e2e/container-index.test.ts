import { mkdir } from "node:fs/promises";
import path from "node:path";
import type Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { LABELS } from "../../agent/runtime/docker/containers";
import { toFlexyContainer } from "../../agent/runtime/docker/flexy-containers";
import { type DockerProxy, startDockerProxy } from "../support/docker-proxy";
import { uniqueName } from "../support/kai-client";
import { until } from "../support/until";
import { createWorld, type World } from "./world";

/**
 * `GET /api/flexy` answered from the agent's container index (agent/runtime/docker/container-index.ts)
 * says exactly what Docker says: a change made through Kai in the very next list, a change made
 * by another client of the engine (create, start, stop, pause, rename, remove, an image
 * untagged) once its event has reached the agent, and while or after the agent's event stream
 * is lost. The agent reaches Docker through a proxy
 * that counts its calls and can cut them; the test's own client goes straight to the engine.
 */

let world: World;
let proxy: DockerProxy;

beforeAll(async () => {
  proxy = await startDockerProxy();
  world = await createWorld({ agentArgs: ["--docker-socket", proxy.socketPath] });
});
afterAll(async () => {
  await world?.dispose();
  await proxy?.close();
});

/** What Kai lists, and what Docker lists for the same host converted the same way. */
async function bothLists() {
  const kai = await world.api(`/api/flexy?limit=100`);
  expect(kai.status).toBe(200);
  const direct = await world.docker.listContainers({
    all: true,
    filters: { label: [`${LABELS.managed}=true`, `${LABELS.host}=${world.host.id}`] },
  });
  direct.sort((a, b) => b.Created - a.Created);
  return { kai: kai.body.data.containers, docker: direct.map(toFlexyContainer) };
}

async function expectSameAsDocker(): Promise<unknown[]> {
  const { kai, docker } = await bothLists();
  expect(kai).toEqual(docker);
  return kai;
}

/**
 * The same, once the event of another client's change has reached the agent: it travels
 * Docker → the proxy → the agent, and may come after the test's own next request.
 */
async function sameAsDockerSoon(): Promise<unknown[]> {
  let kai: unknown[] = [];
  await vi.waitFor(
    async () => {
      const lists = await bothLists();
      kai = lists.kai;
      expect(lists.kai).toEqual(lists.docker);
    },
    { timeout: 10_000, interval: 50 },
  );
  return kai;
}

/** A Kai container of this host, made by another client of the engine with Kai's labels. */
async function foreignKaiContainer(image = world.image): Promise<Docker.Container> {
  const hostPath = path.join(world.root, uniqueName("index-"));
  await mkdir(hostPath, { recursive: true });
  return world.docker.createContainer({
    name: uniqueName("kai-e2e-index-"),
    Image: image,
    Cmd: ["/bin/sleep", "3600"],
    Labels: {
      [LABELS.managed]: "true",
      [LABELS.host]: world.host.id,
      [LABELS.hostPath]: hostPath,
      [LABELS.containerPath]: "/workspace",
    },
  });
}

const listCalls = () => proxy.requests.filter((line) => /^GET \S*\/containers\/json/.test(line)).length;

/** The index is filled once its first read after the stream opened has landed: a list then costs no Docker call. */
async function indexLive(): Promise<void> {
  await until(async () => {
    const before = listCalls();
    await world.api(`/api/flexy?limit=100`);
    return listCalls() === before;
  });
}

describe("the container list from the agent's index", () => {
  it("answers without a Docker call once the event stream is up", async () => {
    await indexLive();
    const before = listCalls();
    for (let index = 0; index < 5; index++) await expectSameAsDocker();
    // Five lists through Kai, none reached Docker (the test's own calls go around the proxy).
    expect(listCalls()).toBe(before);
  });

  it("shows each change another client makes, once its event arrives: create, start, pause, stop, rename, remove", async () => {
    await indexLive();
    const container = await foreignKaiContainer();
    const created = await sameAsDockerSoon();
    expect(created).toContainEqual(expect.objectContaining({ id: container.id, status: "created" }));
    await container.start();
    expect(await sameAsDockerSoon()).toContainEqual(expect.objectContaining({ id: container.id, status: "running" }));
    await container.pause();
    expect(await sameAsDockerSoon()).toContainEqual(expect.objectContaining({ id: container.id, status: "paused" }));
    await container.unpause();
    await container.stop({ t: 0 });
    expect(await sameAsDockerSoon()).toContainEqual(expect.objectContaining({ id: container.id, status: "stopped" }));
    const renamed = uniqueName("kai-e2e-renamed-");
    await container.rename({ name: renamed });
    expect(await sameAsDockerSoon()).toContainEqual(expect.objectContaining({ id: container.id, name: renamed }));
    await container.remove({ force: true });
    expect((await sameAsDockerSoon()).map((one) => (one as { id: string }).id)).not.toContain(container.id);
  });

  it("shows a change made through Kai in the list that follows it", async () => {
    await indexLive();
    const hostPath = path.join(world.root, uniqueName("through-kai-"));
    await mkdir(hostPath, { recursive: true });
    const created = await world.api("/api/flexy", {
      body: { name: uniqueName("kai-e2e-index-kai-"), image: world.image, hostPath },
    });
    expect(created.status).toBe(201);
    const id = created.body.data.id as string;
    expect(await expectSameAsDocker()).toContainEqual(expect.objectContaining({ id }));
    for (const verb of ["start", "stop", "restart"]) {
      expect((await world.api(`/api/flexy/${id}/${verb}?timeout=0`, { method: "POST" })).status).toBe(200);
      await expectSameAsDocker();
    }
    expect((await world.api(`/api/flexy/${id}`, { method: "DELETE" })).status).toBeLessThan(300);
    expect((await expectSameAsDocker()).map((one) => (one as { id: string }).id)).not.toContain(id);
  });

  it("shows the image id once the tag a container was made from is removed", async () => {
    await indexLive();
    const tag = `${uniqueName("kai-e2e-index-tag-")}:v1`;
    const [repo, version] = tag.split(":") as [string, string];
    await world.docker.getImage(world.image).tag({ repo, tag: version });
    const container = await foreignKaiContainer(tag);
    expect(await sameAsDockerSoon()).toContainEqual(expect.objectContaining({ id: container.id, image: tag }));
    await world.docker.getImage(tag).remove();
    const after = await sameAsDockerSoon();
    expect(after).toContainEqual(
      expect.objectContaining({ id: container.id, image: expect.stringMatching(/^sha256:/) }),
    );
    await container.remove({ force: true });
  });

  it("asks Docker while the event stream is lost, and answers from the index again once it is back", async () => {
    await indexLive();
    const container = await foreignKaiContainer();
    const since = world.agent.lines.length;
    proxy.refuse = /\/events/;
    proxy.dropConnections();
    await world.agent.waitFor(/docker event stream ended/, 10_000, since);
    // Changes the agent cannot hear about: the list must still say them.
    await container.start();
    expect(await expectSameAsDocker()).toContainEqual(expect.objectContaining({ id: container.id, status: "running" }));
    await container.stop({ t: 0 });
    expect(await expectSameAsDocker()).toContainEqual(expect.objectContaining({ id: container.id, status: "stopped" }));

    proxy.refuse = undefined;
    await world.agent.waitFor(/docker event stream restored/, 30_000, since);
    await indexLive();
    await container.start();
    expect(await sameAsDockerSoon()).toContainEqual(expect.objectContaining({ id: container.id, status: "running" }));
    await container.remove({ force: true });
    expect((await sameAsDockerSoon()).map((one) => (one as { id: string }).id)).not.toContain(container.id);
  });
});
