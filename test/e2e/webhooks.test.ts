import { execFile } from "node:child_process";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEdge } from "../support/edge-server";
import { request, signUp, uniqueName } from "../support/kai-client";
import { until } from "../support/until";
import { startReceiver } from "../support/webhook-receiver";
import { createWorld, type World } from "./world";

const run = promisify(execFile);
const SECRET = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
let world: World;
let receiver: Awaited<ReturnType<typeof startReceiver>>;

beforeAll(async () => {
  // Retries start at 1-2 s here, so a test can restart the edge between two attempts.
  world = await createWorld({ edgeVars: { WEBHOOKS_ALLOW_PRIVATE: "true", WEBHOOK_RETRY_BASE_MS: "2000" } });
  receiver = await startReceiver(SECRET);
});
afterAll(async () => {
  await world?.dispose();
  await receiver?.close();
});

async function register(events: string[], url = `${receiver.url}/hook`) {
  const res = await world.api("/api/webhooks", { body: { url, events, secret: SECRET } });
  expect(res.status).toBe(201);
  return res.body.data.id as string;
}

const deliveries = async (id: string) => (await world.api(`/api/webhooks/${id}/deliveries`)).body.data;
/**
 * One delivery of the webhook, by its id (the `webhook-id` the receiver saw): not the newest,
 * which a host.online from the test agent reconnecting on a loaded machine would be.
 */
const delivery = async (id: string, deliveryId: string) =>
  (await deliveries(id)).find((item: { id: string }) => item.id === deliveryId);
describe("webhooks, delivered to a real receiver and verified independently", () => {
  it("sends a signed test ping and records the attempt", async () => {
    const id = await register(["host.online"]);
    const before = receiver.received.length;
    const ping = await world.api(`/api/webhooks/${id}/test`, { method: "POST" });
    expect(ping.status).toBe(202);
    await receiver.waitFor(before + 1);
    const got = receiver.received.at(-1);
    expect(got?.verified).toBe(true);
    expect(got?.payload?.type).toBe("webhook.test");
    expect(got?.headers["webhook-id"]).toBe(ping.body.data.deliveryId);
    await until(async () => (await delivery(id, ping.body.data.deliveryId))?.status === "succeeded");
    const { attempts } = await delivery(id, ping.body.data.deliveryId);
    expect(attempts).toEqual([
      {
        attemptedAt: expect.any(String),
        status: 200,
        durationMs: expect.any(Number),
        responseExcerpt: "answered 200",
        error: null,
      },
    ]);
    await world.api(`/api/webhooks/${id}`, { method: "DELETE" });
  });

  it("retries a failing receiver with growing delays until it succeeds, keeping the same webhook-id", async () => {
    const id = await register(["host.online"]);
    const before = receiver.received.length;
    receiver.answerNext(500, 503);
    const { deliveryId } = (await world.api(`/api/webhooks/${id}/test`, { method: "POST" })).body.data;
    await receiver.waitFor(before + 3, 30_000);
    const attempts = receiver.received.slice(before, before + 3);
    expect(new Set(attempts.map((item) => item.headers["webhook-id"])).size).toBe(1);
    expect(attempts.every((item) => item.verified)).toBe(true);
    const [first, second, third] = attempts.map((item) => item.at) as [number, number, number];
    expect(second - first).toBeGreaterThanOrEqual(900); // base 2 s, drawn from its upper half
    expect(third - second).toBeGreaterThanOrEqual(1900); // doubled
    await until(async () => (await delivery(id, deliveryId))?.status === "succeeded");
    const { attempts: recorded } = await delivery(id, deliveryId);
    expect(recorded.map((attempt: { status: number }) => attempt.status)).toEqual([500, 503, 200]);
    await world.api(`/api/webhooks/${id}`, { method: "DELETE" });
  });

  it("keeps retrying across an edge restart", async () => {
    const id = await register(["host.online"]);
    const before = receiver.received.length;
    receiver.answerNext(500);
    const { deliveryId } = (await world.api(`/api/webhooks/${id}/test`, { method: "POST" })).body.data;
    await receiver.waitFor(before + 1);
    // The retry is due in 1-2 s: take the edge down before it, bring it back after.
    await world.edge.stop();
    world.edge = await startEdge({
      persistDir: world.edge.persistDir,
      port: world.edge.port,
      vars: { WEBHOOKS_ALLOW_PRIVATE: "true", WEBHOOK_RETRY_BASE_MS: "2000" },
    });
    await receiver.waitFor(before + 2, 30_000);
    await until(async () => (await delivery(id, deliveryId))?.status === "succeeded");
    await world.agent.waitFor(/ connected /, 20_000);
    await world.api(`/api/webhooks/${id}`, { method: "DELETE" });
  });

  it("fires container.died when a Kai container is killed with the Docker CLI", async () => {
    const id = await register(["container.started", "container.died", "service:start"]);
    const name = uniqueName("kai-e2e-hook-");
    await mkdir(path.join(world.root, name));
    const created = await world.api("/api/flexy", {
      body: { name, image: world.image, hostPath: path.join(world.root, name) },
    });
    const containerId = created.body.data.id;
    await world.api(`/api/flexy/${containerId}/start`, { method: "POST" });
    await until(() =>
      receiver.ofType("container.started").some((item) => item.payload?.data.containerId === containerId),
    );
    await run("docker", ["kill", containerId]);
    await until(() => receiver.ofType("container.died").some((item) => item.payload?.data.containerId === containerId));
    const died = receiver.ofType("container.died").find((item) => item.payload?.data.containerId === containerId);
    expect(died?.verified).toBe(true);
    expect(died?.payload?.data).toMatchObject({ hostId: world.host.id, name, exitCode: 137, managed: true });
    expect(receiver.ofType("service:start").some((item) => item.payload?.data.containerId === containerId)).toBe(true);
    await world.api(`/api/flexy/${containerId}`, { method: "DELETE" });
    await world.api(`/api/webhooks/${id}`, { method: "DELETE" });
  });

  it("announces host.offline and host.online when the agent goes and comes back", async () => {
    const id = await register(["host.online", "host.offline"]);
    const offlineBefore = receiver.ofType("host.offline").length;
    const onlineBefore = receiver.ofType("host.online").length;
    await world.agent.restart();
    await until(
      () =>
        receiver.ofType("host.offline").length > offlineBefore && receiver.ofType("host.online").length > onlineBefore,
    );
    expect(receiver.ofType("host.online").at(-1)?.payload?.data).toMatchObject({ hostId: world.host.id });
    await world.api(`/api/webhooks/${id}`, { method: "DELETE" });
  });

  it("does not follow redirects, and a 410 disables the endpoint", async () => {
    const id = await register(["host.online"]);
    const before = receiver.received.length;
    receiver.answerNext(302);
    const { deliveryId } = (await world.api(`/api/webhooks/${id}/test`, { method: "POST" })).body.data;
    await until(async () => (await delivery(id, deliveryId))?.attempts.length === 1);
    expect((await delivery(id, deliveryId)).attempts[0]).toMatchObject({
      status: 302,
      error: expect.stringContaining("redirects are not followed"),
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(receiver.received.slice(before).map((item) => item.path)).not.toContain("/redirected");

    receiver.answerNext(410);
    await world.api(`/api/webhooks/${id}/test`, { method: "POST" });
    await until(
      async () => !(await world.api("/api/webhooks")).body.data.find((hook: { id: string }) => hook.id === id).active,
    );
    const hook = (await world.api("/api/webhooks")).body.data.find((item: { id: string }) => item.id === id);
    expect(hook.disabledReason).toContain("410");
    const redeliver = await world.api(`/api/webhooks/${id}/deliveries/${deliveryId}/redeliver`, {
      method: "POST",
    });
    expect(redeliver.status).toBe(409);
  });

  it("redelivers on request with the same webhook-id", async () => {
    const id = await register(["host.online"]);
    const before = receiver.received.length;
    await world.api(`/api/webhooks/${id}/test`, { method: "POST" });
    await receiver.waitFor(before + 1);
    const deliveryId = receiver.received.at(-1)?.headers["webhook-id"];
    const again = await world.api(`/api/webhooks/${id}/deliveries/${deliveryId}/redeliver`, { method: "POST" });
    expect(again.status).toBe(202);
    await receiver.waitFor(before + 2);
    expect(receiver.received.at(-1)?.headers["webhook-id"]).toBe(deliveryId);
    await world.api(`/api/webhooks/${id}`, { method: "DELETE" });
  });

  it("keeps webhooks and services private to their owner", async () => {
    const id = await register(["host.online"]);
    const stranger = await signUp(world.edge.url);
    const as = (apiPath: string, init: { method?: string; headers?: Record<string, string> } = {}) =>
      request(world.edge.url, apiPath, { token: stranger.token, ...init });
    expect((await as("/api/webhooks")).body.data).toEqual([]);
    expect((await as(`/api/webhooks/${id}/deliveries`)).status).toBe(404);
    expect((await as("/api/services", { headers: { "X-Kai-Host": world.host.id } })).status).toBe(404);
    expect((await as("/api/system/stats", { headers: { "X-Kai-Host": world.host.id } })).status).toBe(404);
    await world.api(`/api/webhooks/${id}`, { method: "DELETE" });
  });
});
