import { execFile } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { promisify } from "node:util";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { OPS, type Op } from "../../shared/commands";
import { uniqueName } from "../support/kai-client";
import { type World, createWorld } from "./world";

let world: World;
const git = (cwd: string, ...args: string[]) => promisify(execFile)("git", args, { cwd });
let containerId = "";
let workspaceId = "";
/** A container that keeps writing to its log, for the log commands. */
let chattyId = "";
beforeAll(async () => {
  world = await createWorld();
  const repo = path.join(world.root, "contract");
  const remote = path.join(world.root, "contract-remote.git");
  await mkdir(repo);
  await git(world.root, "init", "--bare", "-b", "main", remote);
  await git(repo, "init", "-b", "main");
  await git(repo, "remote", "add", "origin", remote);
  await writeFile(path.join(repo, "package.json"), JSON.stringify({ scripts: { hello: "echo contract" } }));
  const chatty = await world.docker.createContainer({
    name: uniqueName("kai-e2e-chatty-"),
    Image: world.image,
    Cmd: ["/bin/sh", "-c", "while true; do echo tick; sleep 0.2; done"],
  });
  await chatty.start();
  chattyId = chatty.id;
});
afterAll(async () => {
  if (chattyId) await world.docker.getContainer(chattyId).remove({ force: true });
  await world?.dispose();
});

/**
 * How each command of the table is reached through the public API. Typed as a record of
 * every op, so a new command without a contract entry does not compile, and the order is
 * the order they run in (create before inspect, remove last).
 */
const ws = (suffix: string) => `/api/v1/workspaces/${workspaceId}${suffix}`;

/** Follows over a WebSocket until the first chunk, then hangs up (which cancels the stream). */
function firstChunk(apiPath: string): Promise<unknown> {
  return firstMessage(apiPath, (frame) => (frame.type === "chunk" ? frame.data : undefined));
}

/** Opens a stream's WebSocket, takes the first message `pick` accepts, and hangs up. */
function firstMessage(apiPath: string, pick: (frame: { type: string; data?: unknown }) => unknown = (frame) => frame): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${world.edge.url.replace("http", "ws")}${apiPath}`, { headers: { authorization: `Bearer ${world.session.token}` } });
    socket.on("message", (data) => {
      const picked = pick(JSON.parse(data.toString()) as { type: string; data?: unknown });
      if (picked !== undefined) {
        resolve(picked);
        socket.close();
      }
    });
    socket.once("unexpected-response", (_request, response) => reject(new Error(`follow refused: ${response.statusCode}`)));
    socket.once("error", reject);
  });
}

const CONTRACT: Record<Op, () => Promise<unknown>> = {
  ping: async () => (await world.api(`/api/hosts/${world.host.id}/ping`)).body.data,
  "docker.info": async () => (await world.api(`/api/hosts/${world.host.id}`)).body.data.docker,
  "path.check": async () => {
    const item = (await world.api("/api/catalog/flexy", { body: { name: "contract", hostPath: path.join(world.root, "contract") } })).body.data;
    workspaceId = item.id;
    return item;
  },
  "files.write": async () => (await world.api(ws("/files/c.txt"), { method: "PUT", body: { content: "contract" } })).body,
  "files.list": async () => (await world.api(ws("/files"))).body,
  "files.read": async () => (await world.api(ws("/files/c.txt"))).body,
  "git.status": async () => (await world.api(ws("/version-control/status"))).body,
  "git.commit": async () => (await world.api(ws("/version-control/commit"), { body: { message: "contract", all: true } })).body,
  "git.log": async () => (await world.api(ws("/version-control/log"))).body,
  "git.push": async () => (await world.api(ws("/version-control/push"), { body: {} })).body,
  "git.pull": async () => (await world.api(ws("/version-control/pull"), { body: {} })).body,
  "git.checkout": async () => (await world.api(ws("/version-control/checkout"), { body: { branch: "contract-branch", create: true } })).body,
  "git.branches": async () => (await world.api(ws("/version-control/branches"))).body,
  "files.delete": async () => (await world.api(ws("/files/c.txt"), { method: "DELETE" })).body,
  "scripts.list": async () => (await world.api(ws("/scripts"))).body,
  "scripts.run": async () => (await world.api(ws("/scripts/hello/run"), { method: "POST" })).body,
  "settings.write": async () => (await world.api(ws("/settings/mcp"), { method: "PUT", body: { one: { command: "true" } } })).body,
  "settings.read": async () => (await world.api(ws("/settings/mcp"))).body,
  "openspec.state": async () => (await world.api(ws("/openspec"))).body,
  // The e2e agent has no OpenSpec CLI on PATH: the documented answer is CONFLICT.
  "openspec.run": async () => (await world.api(ws("/openspec/actions"), { body: { action: "list" } })).body,
  "workspace.watch": async () => firstMessage(`/api/v1/ws?workspace_id=${workspaceId}`),
  "directory.list": async () => (await world.api("/api/host/directories", { body: { currentPath: world.root } })).body.data,
  "container.create": async () => {
    const res = await world.api("/api/flexy", { body: { name: uniqueName("kai-e2e-contract-"), image: world.image, hostPath: path.join(world.root, "contract") } });
    containerId = res.body.data.id;
    return res.body.data;
  },
  "container.list": async () => (await world.api("/api/flexy")).body.data,
  "container.inspect": async () => (await world.api(`/api/flexy/${containerId}`)).body.data,
  "container.start": async () => (await world.api(`/api/flexy/${containerId}/start`, { method: "POST" })).body.data,
  "container.restart": async () => (await world.api(`/api/flexy/${containerId}/restart?timeout=1`, { method: "POST" })).body.data,
  "container.stop": async () => (await world.api(`/api/flexy/${containerId}/stop?timeout=1`, { method: "POST" })).body.data,
  "service.list": async () => (await world.api("/api/services?filter=all")).body.data,
  "service.inspect": async () => (await world.api(`/api/services/${containerId}`)).body.data,
  "service.start": async () => (await world.api(`/api/services/${containerId}/start`, { method: "POST" })).body.data,
  "service.restart": async () => (await world.api(`/api/services/${containerId}/restart?timeout=1`, { method: "POST" })).body.data,
  "service.logs": async () => (await world.api(`/api/services/${chattyId}/logs?lines=5`)).body.data,
  "service.logs.follow": async () => firstChunk(`/api/services/${chattyId}/logs/follow?lines=1`),
  "service.stats": async () => (await world.api(`/api/services/${containerId}/stats`)).body.data,
  "system.stats": async () => (await world.api("/api/system/stats")).body.data,
  "service.stop": async () => (await world.api(`/api/services/${containerId}/stop?timeout=1`, { method: "POST" })).body.data,
  // No registry can be reached here and the tag is current: the documented answer is NETWORK_ERROR.
  "service.update": async () => (await world.api(`/api/services/${containerId}/update?timeout=1`, { method: "POST" })).body.error,
  "container.remove": async () => (await world.api(`/api/flexy/${containerId}`, { method: "DELETE" })).body.data,
};

/** The outcome each command's round trip ends with; "ok" unless documented otherwise. */
const EXPECTED_OUTCOME: Partial<Record<Op, string>> = { "service.update": "NETWORK_ERROR", "openspec.run": "CONFLICT" };

describe("contract: every command in the table round-trips through the edge and a real agent", () => {
  it("covers exactly the command table", () => {
    expect(Object.keys(CONTRACT).sort()).toEqual([...OPS].sort());
  });

  it.each(Object.keys(CONTRACT) as Op[])("%s", async (op) => {
    const data = await CONTRACT[op]();
    expect(data).toBeTruthy();
    const audit = await world.api("/api/audit?limit=5");
    const entry = audit.body.data.entries.find((row: { op: string }) => row.op === op);
    const outcome = EXPECTED_OUTCOME[op] ?? "ok";
    expect(entry, `no audit entry for ${op}`).toMatchObject({ op, outcome });
    // A stream is logged when it ends: the follow above hung up, so the agent stopped it.
    await world.agent.waitFor(new RegExp(`request=${entry.requestId} op=${op.replaceAll(".", "\\.")} outcome=${outcome}`), 5000);
  });
});
