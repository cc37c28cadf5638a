import { env } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { database } from "../../edge/db/client";
import { hosts } from "../../edge/db/schema";
import { HELLO_TIMEOUT_MS } from "../../edge/host-relay/agent-connections";
import {
  HOST_ID_HEADER,
  HOST_OWNER_HEADER,
  VIEWER_FRAMES_HEADER,
  VIEWER_OP_HEADER,
  VIEWER_PARAMS_HEADER,
  VIEWER_REQUEST_HEADER,
} from "../../edge/host-relay/host-relay";
import type { Outcome } from "../../edge/host-relay/pending";
import { CLOSE_CODES, DOCKER_STATE_TOPIC } from "../../shared/protocol";
import { decodeStreamFrame } from "../../shared/stream-frames";
import {
  connectAgent,
  dial,
  type EnrolledHost,
  enrolledHost,
  failHostUpdates,
  hello,
  hostRelay,
  type RawSocket,
  record,
} from "./agent-socket";
import { BASE } from "./helpers";

/**
 * The host's Durable Object driven directly on workerd: the test plays the agent on a raw
 * socket (and a viewer on another), frame by frame.
 */

type Frame = Record<string, unknown>;
const isRequest = (op: string) => (frame: Frame) => frame.type === "req" && frame.op === op;
const logLine = (message: string) => ({ timestamp: "2026-01-01T00:00:00Z", message, level: "info", stream: "stdout" });
const subjectOf = (enrolled: EnrolledHost) => ({ userId: enrolled.user.id, hostId: enrolled.host.id });

async function hostRow(hostId: string) {
  const [row] = await database(env.DB).select().from(hosts).where(eq(hosts.id, hostId));
  return row;
}

/** A relayed call the test's agent answers: the request it received, and the outcome to come. */
async function relayedCall(enrolled: EnrolledHost, agent: RawSocket, op: string, params: unknown) {
  const requestId = crypto.randomUUID();
  const outcome = hostRelay(enrolled.host.id).call(
    requestId,
    op,
    params,
    5_000,
    subjectOf(enrolled),
  ) as Promise<Outcome>;
  const request = await agent.next<{ id: string; params: unknown }>(
    (frame) => isRequest(op)(frame) && frame.id === requestId,
  );
  return { request, outcome };
}

/** Opens a viewer of `op` on the object, as the Worker's openStream does. */
async function openViewer(
  enrolled: EnrolledHost,
  op: string,
  params: unknown,
  extraHeaders: Record<string, string> = {},
): Promise<{ viewer: RawSocket; requestId: string }> {
  const requestId = crypto.randomUUID();
  const response = await hostRelay(enrolled.host.id).fetch(
    new Request(`${BASE}/viewer`, {
      headers: {
        Upgrade: "websocket",
        [VIEWER_OP_HEADER]: op,
        [VIEWER_PARAMS_HEADER]: JSON.stringify(params),
        [VIEWER_REQUEST_HEADER]: requestId,
        [HOST_ID_HEADER]: enrolled.host.id,
        [HOST_OWNER_HEADER]: enrolled.user.id,
        ...extraHeaders,
      },
    }),
  );
  expect(response.status).toBe(101);
  return { viewer: record(response), requestId };
}

describe("HostRelay: an agent's connection", () => {
  it("welcomes a hello after recording the host online, then relays calls to it", async () => {
    const enrolled = await enrolledHost();
    const agent = await connectAgent(enrolled);
    expect(agent.frames).toEqual([
      { type: "welcome", protocolVersion: expect.any(Number), hostId: enrolled.host.id, hostName: enrolled.host.name },
    ]);
    expect(await hostRow(enrolled.host.id)).toMatchObject({ online: true, agentVersion: "test", dockerOk: true });
    expect(await hostRelay(enrolled.host.id).status()).toMatchObject({
      connected: true,
      hello: { hostId: enrolled.host.id },
    });

    const { request, outcome } = await relayedCall(enrolled, agent, "ping", {});
    agent.socket.send(
      JSON.stringify({ type: "res", id: request.id, ok: true, result: { pong: true, agentTime: "now" } }),
    );
    expect(await outcome).toEqual({ ok: true, result: { pong: true, agentTime: "now" } });

    agent.socket.close(1000, "done");
    await expect.poll(async () => (await hostRow(enrolled.host.id))?.online).toBe(false);
  });

  it("keeps the live connection through a new dial, and replaces it once the new one is welcomed", async () => {
    const enrolled = await enrolledHost();
    const first = await connectAgent(enrolled);
    const { outcome } = await relayedCall(enrolled, first, "ping", {});

    const second = await dial(enrolled.token);
    // Dialled but silent: the working connection stays.
    expect(await hostRelay(enrolled.host.id).status()).toMatchObject({ connected: true });
    expect(first.socket.readyState).toBe(WebSocket.OPEN);

    second.socket.send(hello(enrolled.host.id));
    await second.next((frame) => frame.type === "welcome");
    expect(await first.closed).toEqual({ code: CLOSE_CODES.REPLACED, reason: expect.any(String) });
    // What was in flight on the old connection fails at once, not at its timeout.
    expect(await outcome).toMatchObject({
      ok: false,
      error: { code: "AGENT_OFFLINE", message: expect.stringContaining("reconnected") },
    });
    const { request, outcome: next } = await relayedCall(enrolled, second, "ping", {});
    second.socket.send(
      JSON.stringify({ type: "res", id: request.id, ok: true, result: { pong: true, agentTime: "now" } }),
    );
    expect(await next).toMatchObject({ ok: true });
    second.socket.close(1000, "done");
  });

  it(
    `closes a socket that says no hello within ${HELLO_TIMEOUT_MS / 1000} s with HELLO_REQUIRED`,
    async () => {
      const enrolled = await enrolledHost();
      const silent = await dial(enrolled.token);
      const started = Date.now();
      const closed = await silent.closed;
      expect(closed.code).toBe(CLOSE_CODES.HELLO_REQUIRED);
      expect(Date.now() - started).toBeGreaterThanOrEqual(HELLO_TIMEOUT_MS - 1_000);
      expect(silent.frames).toEqual([]);
    },
    HELLO_TIMEOUT_MS + 10_000,
  );

  it("closes the socket with 1011 when recording a Docker state fails, and takes the next dial", async () => {
    const enrolled = await enrolledHost();
    const agent = await connectAgent(enrolled);
    const restore = await failHostUpdates(enrolled.host.id);
    try {
      agent.socket.send(
        JSON.stringify({ type: "event", topic: "host.docker", seq: 0, data: { ok: false, version: null } }),
      );
      expect((await agent.closed).code).toBe(1011);
    } finally {
      await restore();
    }
    const again = await connectAgent(enrolled);
    expect(await hostRelay(enrolled.host.id).status()).toMatchObject({ connected: true });
    again.socket.close(1000, "done");
  });
});

describe("HostRelay: streams", () => {
  it("hands a viewer each chunk that matches the command's schema, then the end", async () => {
    const enrolled = await enrolledHost();
    const agent = await connectAgent(enrolled);
    const { viewer, requestId } = await openViewer(enrolled, "service.logs.follow", { id: "web" });
    const request = await agent.next<{ id: string; params: unknown }>(isRequest("service.logs.follow"));
    expect(request).toMatchObject({ id: requestId, params: { id: "web" } });

    agent.socket.send(
      JSON.stringify({
        type: "chunks",
        id: requestId,
        seq: 0,
        data: [logLine("one"), { not: "a log line" }, logLine("three")],
      }),
    );
    // The answer goes only once both chunks reached the viewer, as a real agent's would after its reads.
    await expect.poll(() => viewer.texts.length).toBe(2);
    agent.socket.send(
      JSON.stringify({ type: "res", id: requestId, ok: true, result: { ended: "container-stopped", lines: 2 } }),
    );
    expect((await viewer.closed).code).toBe(1000);
    expect(viewer.texts.map((text) => decodeStreamFrame("service.logs.follow", text))).toEqual([
      { type: "chunk", seq: 0, data: logLine("one") },
      { type: "chunk", seq: 2, data: logLine("three") },
      { type: "end", result: { ended: "container-stopped", lines: 2 } },
    ]);
    agent.socket.close(1000, "done");
  });

  it("hands a batched viewer runs of consecutive chunks, split at a dropped chunk, never one twice", async () => {
    const enrolled = await enrolledHost();
    const agent = await connectAgent(enrolled);
    const { viewer, requestId } = await openViewer(
      enrolled,
      "service.logs.follow",
      { id: "web" },
      { [VIEWER_FRAMES_HEADER]: "batch" },
    );
    await agent.next(isRequest("service.logs.follow"));
    const send = (seq: number, data: unknown[]) =>
      agent.socket.send(JSON.stringify({ type: "chunks", id: requestId, seq, data }));
    send(0, [logLine("0"), logLine("1"), { not: "a log line" }, logLine("3")]);
    // Each frame once the last one's reached the viewer: see `RawSocket` on the order of frames.
    await viewer.next((frame) => frame.seq === 3);
    // Numbers the viewer already has are not sent again (as for a per-line viewer).
    send(3, [logLine("3"), logLine("4")]);
    await viewer.next((frame) => frame.seq === 4);
    agent.socket.send(
      JSON.stringify({ type: "res", id: requestId, ok: true, result: { ended: "container-stopped", lines: 4 } }),
    );
    expect((await viewer.closed).code).toBe(1000);
    expect(viewer.texts.map((text) => decodeStreamFrame("service.logs.follow", text))).toEqual([
      { type: "chunks", seq: 0, data: [logLine("0"), logLine("1")] },
      { type: "chunks", seq: 3, data: [logLine("3")] },
      { type: "chunks", seq: 4, data: [logLine("4")] },
      { type: "end", result: { ended: "container-stopped", lines: 4 } },
    ]);
    agent.socket.close(1000, "done");
  });

  it("sends a batched viewer an agent's frame of exact log entries as it came, and any other spelling as checked", async () => {
    const enrolled = await enrolledHost();
    const agent = await connectAgent(enrolled);
    const { viewer, requestId } = await openViewer(
      enrolled,
      "service.logs.follow",
      { id: "web" },
      { [VIEWER_FRAMES_HEADER]: "batch" },
    );
    await agent.next(isRequest("service.logs.follow"));
    // As kai-agent writes it: its entries' text reaches the viewer unparsed, so it must be the checked bytes.
    const exact = [logLine("0"), logLine('quote " backslash \\ newline \n tab \t \u0001 😀 \u2028'), logLine("2")];
    agent.socket.send(JSON.stringify({ type: "chunks", id: requestId, seq: 0, data: exact }));
    await viewer.next((frame) => frame.seq === 0); // each frame once the last one's through (see `RawSocket`)
    // The same entries spelt otherwise: a key twice, one key more, escapes JSON.stringify does not write.
    const entry = (fields: string) => `{"timestamp":"2026-01-01T00:00:00Z",${fields}}`;
    const spelt = [
      entry(`"message":"3","level":"info","stream":"stdout","stream":"stderr"`),
      entry(`"message":"4","level":"info","stream":"stdout","extra":"x"`),
      entry(`"message":"\\/ \\u00e9 \\u2028","level":"info","stream":"stdout"`),
      entry(`"message":"6","message":"six","level":"info","stream":"stdout"`),
    ];
    agent.socket.send(`{"type":"chunks","id":"${requestId}","seq":3,"data":[${spelt.join(",")}]}`);
    await viewer.next((frame) => frame.seq === 3);
    // Exact again, but the viewer has seen lines 0-6 of it: only 7 goes.
    const again = [...exact, logLine("3"), logLine("4"), logLine("5"), logLine("6"), logLine("7")];
    agent.socket.send(JSON.stringify({ type: "chunks", id: requestId, seq: 0, data: again }));
    await viewer.next((frame) => frame.seq === 7);
    agent.socket.send(
      JSON.stringify({ type: "res", id: requestId, ok: true, result: { ended: "container-stopped", lines: 8 } }),
    );
    expect((await viewer.closed).code).toBe(1000);
    const checked = [{ ...logLine("3"), stream: "stderr" }, logLine("4"), logLine("/ é \u2028"), logLine("six")];
    // Byte for byte what the full check writes, whichever way each frame went.
    expect(viewer.texts).toEqual([
      JSON.stringify({ type: "chunks", seq: 0, data: exact }),
      JSON.stringify({ type: "chunks", seq: 3, data: checked }),
      JSON.stringify({ type: "chunks", seq: 7, data: [logLine("7")] }),
      JSON.stringify({ type: "end", result: { ended: "container-stopped", lines: 8 } }),
    ]);
    agent.socket.close(1000, "done");
  });

  it("sends an exact frame only to a log follow's batched viewers, and only the lines they lack", async () => {
    const enrolled = await enrolledHost();
    const agent = await connectAgent(enrolled);
    const exactFrame = (id: string, seq: number, count: number) =>
      JSON.stringify({ type: "chunks", id, seq, data: Array.from({ length: count }, (_, n) => logLine(`${seq + n}`)) });
    // Another stream's batched viewer: a log-shaped frame for it still meets its own chunk schema, which refuses it.
    const watch = await openViewer(
      enrolled,
      "workspace.watch",
      { root: "/w", statsIntervalMs: 1000 },
      { [VIEWER_FRAMES_HEADER]: "batch" },
    );
    await agent.next((frame) => isRequest("workspace.watch")(frame) && frame.id === watch.requestId);
    agent.socket.send(exactFrame(watch.requestId, 0, 3));
    agent.socket.send(JSON.stringify({ type: "res", id: watch.requestId, ok: true, result: { ended: "cancelled" } }));
    expect((await watch.viewer.closed).code).toBe(1000);
    expect(watch.viewer.texts).toEqual([JSON.stringify({ type: "end", result: { ended: "cancelled" } })]);

    // Two exact frames that overlap: the second's first three lines were sent already.
    const logs = await openViewer(enrolled, "service.logs.follow", { id: "web" }, { [VIEWER_FRAMES_HEADER]: "batch" });
    await agent.next((frame) => isRequest("service.logs.follow")(frame) && frame.id === logs.requestId);
    agent.socket.send(exactFrame(logs.requestId, 0, 3));
    await logs.viewer.next((frame) => frame.seq === 0); // each frame once the last one's through (see `RawSocket`)
    agent.socket.send(exactFrame(logs.requestId, 0, 4));
    await logs.viewer.next((frame) => frame.seq === 3);
    agent.socket.send(
      JSON.stringify({ type: "res", id: logs.requestId, ok: true, result: { ended: "container-stopped", lines: 4 } }),
    );
    expect((await logs.viewer.closed).code).toBe(1000);
    expect(logs.viewer.texts).toEqual([
      JSON.stringify({ type: "chunks", seq: 0, data: [logLine("0"), logLine("1"), logLine("2")] }),
      JSON.stringify({ type: "chunks", seq: 3, data: [logLine("3")] }),
      JSON.stringify({ type: "end", result: { ended: "container-stopped", lines: 4 } }),
    ]);
    agent.socket.close(1000, "done");
  });

  it("takes no exact frame from a socket that has not said hello", async () => {
    const enrolled = await enrolledHost();
    const agent = await connectAgent(enrolled);
    const { viewer, requestId } = await openViewer(
      enrolled,
      "service.logs.follow",
      { id: "web" },
      { [VIEWER_FRAMES_HEADER]: "batch" },
    );
    await agent.next(isRequest("service.logs.follow"));
    const stranger = await dial(enrolled.token);
    stranger.socket.send(JSON.stringify({ type: "chunks", id: requestId, seq: 0, data: [logLine("forged")] }));
    expect((await stranger.closed).code).toBe(CLOSE_CODES.HELLO_REQUIRED);
    agent.socket.send(
      JSON.stringify({ type: "res", id: requestId, ok: true, result: { ended: "container-stopped", lines: 0 } }),
    );
    expect((await viewer.closed).code).toBe(1000);
    expect(viewer.texts).toEqual([JSON.stringify({ type: "end", result: { ended: "container-stopped", lines: 0 } })]);
    agent.socket.close(1000, "done");
  });

  it("checks the chunks it collects for a call without a viewer the same way", async () => {
    const enrolled = await enrolledHost();
    const agent = await connectAgent(enrolled);
    const { request, outcome } = await relayedCall(enrolled, agent, "scripts.run", {
      root: "/w",
      name: "build",
      timeoutSeconds: 5,
    });
    const output = (data: string) => ({ stream: "stdout", data });
    agent.socket.send(
      JSON.stringify({
        type: "chunks",
        id: request.id,
        seq: 0,
        data: [output("a"), { stream: "elsewhere", data: 1 }, output("c")],
      }),
    );
    // A Docker-state event sent after the chunks, seen in D1: by then the object has handled them
    // too (in the Workers pool two frames can swap, see `RawSocket`, but not across a D1 round trip).
    agent.socket.send(
      JSON.stringify({ type: "event", topic: DOCKER_STATE_TOPIC, seq: 0, data: { ok: true, version: "after-chunks" } }),
    );
    await expect.poll(async () => (await hostRow(enrolled.host.id))?.dockerVersion).toBe("after-chunks");
    const result = { exitCode: 0, signal: null, timedOut: false, cancelled: false, durationMs: 3 };
    agent.socket.send(JSON.stringify({ type: "res", id: request.id, ok: true, result }));
    expect(await outcome).toEqual({ ok: true, result, chunks: [output("a"), output("c")], chunksTruncated: false });
    agent.socket.close(1000, "done");
  });

  it("tells the agent to cancel when the viewer leaves, and when chunks come for nobody", async () => {
    const enrolled = await enrolledHost();
    const agent = await connectAgent(enrolled);
    const { viewer, requestId } = await openViewer(enrolled, "workspace.watch", { root: "/w", statsIntervalMs: 1_000 });
    await agent.next(isRequest("workspace.watch"));
    // A raw stream: each event is the frame itself.
    const event = { type: "file_changed", path: "a.txt", event_type: "created" };
    agent.socket.send(JSON.stringify({ type: "chunk", id: requestId, seq: 0, data: event }));
    await viewer.next((frame) => frame.type === "file_changed");
    expect(decodeStreamFrame("workspace.watch", viewer.texts[0] ?? "")).toEqual({
      type: "chunk",
      seq: -1,
      data: event,
    });

    viewer.socket.close(1000, "leaving");
    await agent.next((frame) => frame.type === "cancel" && frame.id === requestId);

    const stray = crypto.randomUUID();
    agent.socket.send(JSON.stringify({ type: "chunk", id: stray, seq: 0, data: event }));
    await agent.next((frame) => frame.type === "cancel" && frame.id === stray);
    agent.socket.close(1000, "done");
  });

  it("ends a viewer with AGENT_OFFLINE when its agent leaves", async () => {
    const enrolled = await enrolledHost();
    const agent = await connectAgent(enrolled);
    const { viewer } = await openViewer(enrolled, "service.logs.follow", { id: "web" });
    await agent.next(isRequest("service.logs.follow"));
    agent.socket.close(1000, "bye");
    expect((await viewer.closed).code).toBe(1011);
    expect(decodeStreamFrame("service.logs.follow", viewer.texts.at(-1) ?? "")).toMatchObject({
      type: "error",
      error: { code: "AGENT_OFFLINE" },
    });
  });
});
