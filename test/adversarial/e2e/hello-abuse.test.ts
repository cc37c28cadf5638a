import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { CLOSE_CODES } from "../../../shared/protocol";
import { createWorld, type World } from "../../e2e/world";
import { enrollHost } from "../../support/kai-client";
import { dialAgent, helloFrame } from "../../support/raw-agent";
import { until } from "../../support/until";
import { startReceiver } from "../../support/webhook-receiver";

/**
 * Whoever holds a host's agent token can dial `/api/agent/connect`. A stray or hostile dial
 * must not evict the live agent: the old socket is replaced only once the new one's hello is
 * accepted. One hello per socket (each would announce the host online again), and a socket
 * that never says hello is closed after a bounded time.
 */

const SECRET = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
let world: World;
let receiver: Awaited<ReturnType<typeof startReceiver>>;

beforeAll(async () => {
  world = await createWorld({ edgeVars: { WEBHOOKS_ALLOW_PRIVATE: "true" } });
  receiver = await startReceiver(SECRET);
  const hook = await world.api("/api/webhooks", {
    body: { url: `${receiver.url}/hook`, events: ["host.online", "host.offline"], secret: SECRET },
  });
  expect(hook.status).toBe(201);
});
afterAll(async () => {
  await world?.dispose();
  await receiver?.close();
});

/** The live agent still answers, and is the one connected (not a raw socket). */
async function expectLiveAgentServing() {
  const ping = await world.api(`/api/hosts/${world.host.id}/ping`);
  expect(ping.status).toBe(200);
  const state = await world.api(`/api/hosts/${world.host.id}/session`);
  expect(state.body.data.connected).toBe(true);
  expect(state.body.data.agentVersion).not.toBe("raw-test");
}

const announced = (type: string, hostId: string) =>
  receiver.received.filter((item) => item.payload?.type === type && item.payload.data["hostId"] === hostId).length;

describe("a stray dial with a live host's agent token", () => {
  it("that says hello for another host is closed, and the live agent stays connected", async () => {
    const since = world.agent.lines.length;
    const stray = await dialAgent(world.edge.url, world.host.token);
    stray.socket.send(helloFrame("00000000-0000-4000-8000-000000000000"));
    expect((await stray.closed).code).toBe(CLOSE_CODES.PROTOCOL_ERROR);
    await expectLiveAgentServing();
    expect(world.agent.lines.slice(since).join("\n")).not.toContain(`code=${CLOSE_CODES.REPLACED}`);
  });

  it("that speaks a protocol too old is closed, and the live agent stays connected", async () => {
    const since = world.agent.lines.length;
    const stray = await dialAgent(world.edge.url, world.host.token);
    stray.socket.send(helloFrame(stray.hostId, 0));
    expect((await stray.closed).code).toBe(CLOSE_CODES.VERSION_UNSUPPORTED);
    await expectLiveAgentServing();
    expect(world.agent.lines.slice(since).join("\n")).not.toContain(`code=${CLOSE_CODES.REPLACED}`);
  });

  it("that never says hello is closed after a bounded time, while the live agent keeps answering", async () => {
    const since = world.agent.lines.length;
    const stray = await dialAgent(world.edge.url, world.host.token);
    await expectLiveAgentServing();
    // `ws` leaves OPEN when the edge's close frame arrives, but reports the close only once the
    // local dev server ends the TCP connection, seconds later; terminating then reports its code.
    await until(() => stray.socket.readyState !== WebSocket.OPEN, 30_000, "the edge closing the silent socket").catch(
      () => undefined,
    );
    expect(stray.socket.readyState).not.toBe(WebSocket.OPEN);
    stray.socket.terminate();
    expect(await stray.closed).toMatchObject({ code: CLOSE_CODES.HELLO_REQUIRED });
    // Nothing was ever relayed to the silent socket.
    expect(stray.frames).toEqual([]);
    await expectLiveAgentServing();
    expect(world.agent.lines.slice(since).join("\n")).not.toContain(`code=${CLOSE_CODES.REPLACED}`);
  }, 60_000);

  it("replaces the live agent only once its own hello is accepted", async () => {
    const newcomer = await dialAgent(world.edge.url, world.host.token);
    newcomer.socket.on("message", (data) => {
      const frame = JSON.parse(data.toString()) as { type: string; id: string; op: string };
      if (frame.type === "req" && frame.op === "ping") {
        newcomer.socket.send(
          JSON.stringify({
            type: "res",
            id: frame.id,
            ok: true,
            result: { pong: true, agentTime: new Date().toISOString() },
          }),
        );
      }
    });
    // Connected but silent: requests still go to the live agent.
    await expectLiveAgentServing();
    expect(newcomer.frames).toEqual([]);

    const since = world.agent.lines.length;
    newcomer.socket.send(helloFrame(newcomer.hostId));
    await until(() => newcomer.frames.some((frame) => frame.type === "welcome"), 10_000, "the newcomer's welcome");
    await world.agent.waitFor(new RegExp(`code=${CLOSE_CODES.REPLACED}`), 10_000, since);
    expect((await world.api(`/api/hosts/${world.host.id}/ping`)).status).toBe(200);
    expect(newcomer.frames.some((frame) => frame.type === "req" && frame.op === "ping")).toBe(true);

    newcomer.socket.close();
    await world.agent.restart();
    await expectLiveAgentServing();
  });
});

describe("hello", () => {
  it("is accepted once per socket: another one after the welcome closes it, and the host is announced online once", async () => {
    const host = await enrollHost(world.session);
    const raw = await dialAgent(world.edge.url, host.token);
    raw.socket.send(helloFrame(raw.hostId));
    await until(() => raw.frames.some((frame) => frame.type === "welcome"), 10_000, "the welcome");
    for (let n = 0; n < 19; n++) raw.socket.send(helloFrame(raw.hostId));
    const closed = await Promise.race([
      raw.closed,
      new Promise<"still open">((resolve) => setTimeout(() => resolve("still open"), 5_000)),
    ]);
    if (closed === "still open") raw.socket.close();
    // However the socket ended, host.offline follows the host.online deliveries that were made.
    await until(() => announced("host.offline", host.id) >= 1, 20_000, "host.offline");
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(announced("host.online", host.id)).toBe(1);
    expect(raw.frames.filter((frame) => frame.type === "welcome")).toHaveLength(1);
    expect(closed).toMatchObject({ code: CLOSE_CODES.PROTOCOL_ERROR });
    await world.api(`/api/hosts/${host.id}`, { method: "DELETE" });
  });

  it("sent twenty times at once closes the socket, with at most one welcome and as many host.online", async () => {
    const host = await enrollHost(world.session);
    const raw = await dialAgent(world.edge.url, host.token);
    for (let n = 0; n < 20; n++) raw.socket.send(helloFrame(raw.hostId));
    const closed = await Promise.race([
      raw.closed,
      new Promise<"still open">((resolve) => setTimeout(() => resolve("still open"), 5_000)),
    ]);
    if (closed === "still open") raw.socket.close();
    const welcomes = raw.frames.filter((frame) => frame.type === "welcome").length;
    // A second hello may land while the first is being recorded: then none is welcomed.
    if (welcomes > 0) await until(() => announced("host.offline", host.id) >= 1, 20_000, "host.offline");
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(announced("host.online", host.id)).toBeLessThanOrEqual(1);
    expect(announced("host.online", host.id)).toBe(welcomes);
    expect(closed).toMatchObject({ code: CLOSE_CODES.PROTOCOL_ERROR });
    // The host is not left marked online by a socket that is gone.
    const row = await world.api(`/api/hosts/${host.id}`);
    expect(row.body.data.online).toBe(false);
    await world.api(`/api/hosts/${host.id}`, { method: "DELETE" });
  });
});
