import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DockerProxy, startDockerProxy } from "../support/docker-proxy";
import { uniqueName } from "../support/kai-client";
import { createWorld, type World } from "./world";

let world: World;
let proxy: DockerProxy;
let outside: string;

beforeAll(async () => {
  // The agent talks to the engine only through a counting proxy, so a test can prove that
  // a refused request never reached Docker.
  proxy = await startDockerProxy();
  world = await createWorld({ agentArgs: ["--docker-socket", proxy.socketPath] });
  outside = await realpath(await mkdtemp(path.join(os.tmpdir(), "kai-outside-")));
  await writeFile(path.join(outside, "secret.txt"), "not for the edge");
  await mkdir(path.join(world.root, "project", "src"), { recursive: true });
  await writeFile(path.join(world.root, "project", "README.md"), "# hello\n");
  await writeFile(path.join(world.root, "project", ".env"), "HIDDEN=1\n");
  await symlink(outside, path.join(world.root, "escape"));
  await symlink("/", path.join(world.root, "to-root"));
  await mkdir(`${world.root}-evil`, { recursive: true });
});
afterAll(async () => {
  await world?.dispose();
  await proxy?.close();
  await rm(outside, { recursive: true, force: true });
  await rm(`${world.root}-evil`, { recursive: true, force: true });
});

const listDir = (currentPath?: string) =>
  world.api("/api/host/directories", { body: currentPath === undefined ? {} : { currentPath } });

describe("host directories", () => {
  it("lists directories and files, hidden ones included, with sizes and times", async () => {
    const res = await listDir(path.join(world.root, "project"));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ success: true, message: "Directory listing retrieved successfully" });
    const data = res.body.data;
    expect(data.path).toBe(path.join(world.root, "project"));
    expect(data.directories).toEqual([
      { name: "src", path: path.join(world.root, "project", "src"), modified: expect.any(String) },
    ]);
    expect(data.files.map((file: { name: string }) => file.name)).toEqual([".env", "README.md"]);
    expect(data.files.find((file: { name: string }) => file.name === "README.md").size).toBe(8);
    expect(data.truncated).toBe(false);
  });

  it("defaults to the first allowed root", async () => {
    const res = await listDir();
    expect(res.body.data.path).toBe(world.root);
    const names = res.body.data.directories.map((entry: { name: string }) => entry.name);
    expect(names).toContain("project");
    // Symlinks that lead out of the allowed roots are not offered.
    expect(names).not.toContain("escape");
    expect(names).not.toContain("to-root");
  });

  it.each([
    ["a parent traversal", () => path.join(world.root, "..")],
    ["a traversal that lands outside", () => `${world.root}/project/../../`],
    ["an absolute path outside", () => "/etc"],
    ["the filesystem root", () => "/"],
    ["a symlink pointing outside", () => path.join(world.root, "escape")],
    ["a path through a symlink to /", () => path.join(world.root, "to-root", "etc")],
    ["a sibling sharing the root's prefix", () => `${world.root}-evil`],
    ["another directory outside", () => outside],
  ])("refuses %s with PERMISSION_DENIED", async (_label, target) => {
    const res = await listDir(target());
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe("PERMISSION_DENIED");
    expect(JSON.stringify(res.body)).not.toContain("not for the edge");
  });

  it("refuses relative paths and NUL bytes before they reach the agent", async () => {
    expect((await listDir("project")).status).toBe(400);
    expect((await listDir(`${world.root}/a\u0000b`)).status).toBe(400);
  });

  it("caps a very large directory and says so", async () => {
    const big = path.join(world.root, "big");
    await mkdir(big);
    await Promise.all(
      Array.from({ length: 1500 }, (_, i) => writeFile(path.join(big, `f${String(i).padStart(4, "0")}`), "")),
    );
    const res = await listDir(big);
    expect(res.status).toBe(200);
    expect(res.body.data.truncated).toBe(true);
    expect(res.body.data.directories.length + res.body.data.files.length).toBe(1000);
  });
});

describe("catalog", () => {
  it("adds an item whose path the agent checked, lists it, records its container, and removes it", async () => {
    const added = await world.api("/api/catalog/flexy", {
      body: { name: "My Project", hostPath: path.join(world.root, "project", "src", "..") },
    });
    expect(added.status).toBe(201);
    expect(added.body.data).toMatchObject({
      name: "My Project",
      hostPath: path.join(world.root, "project"),
      hostId: world.host.id,
      containerId: null,
    });
    const itemId = added.body.data.id;

    const created = await world.api("/api/flexy", {
      body: { name: uniqueName("kai-e2e-cat-"), image: world.image, catalogItemId: itemId },
    });
    expect(created.status).toBe(201);
    expect(created.body.data.hostPath).toBe(path.join(world.root, "project"));
    const listed = await world.api("/api/catalog/flexy");
    expect(listed.body.data.items.find((item: { id: string }) => item.id === itemId)).toMatchObject({
      containerId: created.body.data.id,
    });
    const labels = (await world.docker.getContainer(created.body.data.id).inspect()).Config.Labels;
    expect(labels["kai.catalog"]).toBe(itemId);

    await world.api(`/api/flexy/${created.body.data.id}`, { method: "DELETE" });
    const afterDelete = await world.api("/api/catalog/flexy");
    expect(afterDelete.body.data.items.find((item: { id: string }) => item.id === itemId).containerId).toBeNull();

    const removed = await world.api(`/api/catalog/flexy/${itemId}`, { method: "DELETE" });
    expect(removed.body).toMatchObject({
      success: true,
      data: { id: itemId },
      message: "Catalog item removed successfully",
    });
    expect((await world.api(`/api/catalog/flexy/${itemId}`, { method: "DELETE" })).status).toBe(404);
  });

  it.each([
    ["outside the allowed roots", () => outside, 403, "PERMISSION_DENIED"],
    ["through a symlink that leaves them", () => path.join(world.root, "escape"), 403, "PERMISSION_DENIED"],
    ["that does not exist", () => path.join(world.root, "missing"), 400, "VALIDATION_ERROR"],
  ])("refuses a hostPath %s", async (_label, target, status, code) => {
    const res = await world.api("/api/catalog/flexy", { body: { name: "x", hostPath: target() } });
    expect(res.status).toBe(status);
    expect(res.body.error.code).toBe(code);
  });
});

describe("the agent's local policy holds whatever the edge sends", () => {
  it.each([
    ["a bind mount outside the allowed roots", () => outside],
    ["a bind mount of /", () => "/"],
    ["a bind mount through a symlink that escapes", () => path.join(world.root, "escape")],
    ["a bind mount via ..", () => `${world.root}/../`],
  ])("refuses %s with PERMISSION_DENIED, and nothing reaches the engine", async (_label, hostPath) => {
    const name = uniqueName("kai-e2e-policy-");
    proxy.reset();
    const res = await world.api("/api/flexy", { body: { name, image: world.image, hostPath: hostPath() } });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe("PERMISSION_DENIED");
    // Nothing that could make or change a container: the agent's container index may read the
    // list at any moment (its settle read after an earlier test's events), which is no escape.
    expect(proxy.requests.filter((line) => !line.startsWith("GET /containers/json?"))).toEqual([]);
    expect(await world.docker.listContainers({ all: true, filters: { name: [name] } })).toEqual([]);
  });

  it("lets an allowed request through the same proxy, so the proof above is not vacuous", async () => {
    const name = uniqueName("kai-e2e-allowed-");
    proxy.reset();
    const res = await world.api("/api/flexy", {
      body: { name, image: world.image, hostPath: path.join(world.root, "project") },
    });
    expect(res.status).toBe(201);
    expect(proxy.requests.some((line) => line.startsWith("POST") && line.includes("/containers/create"))).toBe(true);
    await world.api(`/api/flexy/${res.body.data.id}`, { method: "DELETE" });
  });
});
