import { mkdir } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OPS, type Op } from "../../shared/commands";
import { uniqueName } from "../support/kai-client";
import { type World, createWorld } from "./world";

let world: World;
let containerId = "";
beforeAll(async () => {
  world = await createWorld();
  await mkdir(path.join(world.root, "contract"));
});
afterAll(async () => world?.dispose());

/**
 * How each command of the table is reached through the public API. Typed as a record of
 * every op, so a new command without a contract entry does not compile, and the order is
 * the order they run in (create before inspect, remove last).
 */
const CONTRACT: Record<Op, () => Promise<unknown>> = {
  ping: async () => (await world.api(`/api/hosts/${world.host.id}/ping`)).body.data,
  "docker.info": async () => (await world.api(`/api/hosts/${world.host.id}`)).body.data.docker,
  "path.check": async () => (await world.api("/api/catalog/flexy", { body: { name: "contract", hostPath: path.join(world.root, "contract") } })).body.data,
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
  "container.remove": async () => (await world.api(`/api/flexy/${containerId}`, { method: "DELETE" })).body.data,
};

describe("contract: every command in the table round-trips through the edge and a real agent", () => {
  it("covers exactly the command table", () => {
    expect(Object.keys(CONTRACT).sort()).toEqual([...OPS].sort());
  });

  it.each(Object.keys(CONTRACT) as Op[])("%s", async (op) => {
    const data = await CONTRACT[op]();
    expect(data).toBeTruthy();
    const audit = await world.api("/api/audit?limit=5");
    const entry = audit.body.data.entries.find((row: { op: string }) => row.op === op);
    expect(entry, `no audit entry for ${op}`).toMatchObject({ op, outcome: "ok" });
    await world.agent.waitFor(new RegExp(`request=${entry.requestId} op=${op.replace(".", "\\.")} outcome=ok`), 5000);
  });
});
