import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { EXIT_FINAL } from "../../agent/exit-codes";
import { CLOSE_CODES, PROTOCOL_VERSION } from "../../shared/protocol";
import type { StreamFrame } from "../../shared/stream-frames";
import { AgentProcess } from "../support/agent-process";
import { ROOT, startEdge } from "../support/edge-server";
import { enrollHost, streamFrameOf, uniqueName } from "../support/kai-client";
import { createWorld, type World } from "./world";

/**
 * The edge's wait for an agent's answer in this file: short, so the frozen-agent test is quick,
 * yet longer than a Docker call takes on a busy machine. "At once" below means well before it:
 * the edge did not wait for the agent (a bound in milliseconds would measure the machine's load).
 */
const AGENT_TIMEOUT_MS = 10_000;

let world: World;
beforeAll(async () => {
  world = await createWorld({ edgeVars: { AGENT_TIMEOUT_MS: String(AGENT_TIMEOUT_MS) } });
});
afterAll(async () => world?.dispose());

const timed = async <T>(work: Promise<T>) => {
  const started = performance.now();
  const value = await work;
  return { value, ms: performance.now() - started };
};

/** Opens a raw socket as the agent would, to speak the protocol by hand. */
function rawAgentSocket(
  token: string,
): Promise<{ socket: WebSocket; hostId: string; closed: Promise<{ code: number; reason: string }> }> {
  const url = `${world.edge.url.replace("http", "ws")}/api/agent/connect`;
  const socket = new WebSocket(url, { headers: { Authorization: `Bearer ${token}` } });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.once("close", (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  return new Promise((resolve, reject) => {
    let hostId = "";
    socket.once("upgrade", (response) => (hostId = String(response.headers["x-kai-host-id"])));
    socket.once("open", () => resolve({ socket, hostId, closed }));
    socket.once("error", reject);
  });
}

const hello = (hostId: string, protocolVersion = PROTOCOL_VERSION) =>
  JSON.stringify({
    type: "hello",
    protocolVersion,
    agentVersion: "test",
    hostId,
    capabilities: [],
    docker: { ok: true, version: "x" },
    os: "test",
    arch: "x64",
    hostname: "raw",
  });

describe("relay failures map to documented errors, fast", () => {
  it("answers 503 AGENT_OFFLINE at once for a host whose agent is not connected", async () => {
    const idle = await enrollHost(world.session);
    const { value, ms } = await timed(world.api("/api/flexy", { headers: { "X-Kai-Host": idle.id } }));
    expect(value.status).toBe(503);
    expect(value.body.error.code).toBe("AGENT_OFFLINE");
    expect(value.body.error.message).toContain("kai-agent");
    expect(ms).toBeLessThan(AGENT_TIMEOUT_MS);
    await world.api(`/api/hosts/${idle.id}`, { method: "DELETE" });
  });

  it("requires a host choice once a user has two hosts, naming them", async () => {
    const second = await enrollHost(world.session);
    const res = await world.api("/api/flexy");
    expect(res.status).toBe(400);
    expect(res.body.error.details.hosts.map((host: { id: string }) => host.id)).toEqual(
      expect.arrayContaining([world.host.id, second.id]),
    );
    expect((await world.api(`/api/flexy?host=${encodeURIComponent(world.host.name)}`)).status).toBe(200);
    await world.api(`/api/hosts/${second.id}`, { method: "DELETE" });
  });

  it("fails a pending request with 503 at once when the agent is killed mid-request, and the restarted agent reconnects", async () => {
    const name = uniqueName("kai-e2e-kill-");
    await mkdir(path.join(world.root, name));
    const created = await world.api("/api/flexy", {
      body: { name, image: world.image, hostPath: path.join(world.root, name) },
    });
    const id = created.body.data.id;
    await world.api(`/api/flexy/${id}/start`, { method: "POST" });

    // busybox sleep ignores SIGTERM, so this stop takes its full 30 s grace period.
    const slow = world.api(`/api/flexy/${id}/stop?timeout=30`, { method: "POST" });
    await world.agent.waitFor(/connected/);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const killedAt = performance.now();
    world.agent.signal("SIGKILL");
    const res = await slow;
    const afterKill = performance.now() - killedAt;
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe("AGENT_OFFLINE");
    // Not the stop's 30 s, nor the agent timeout: the edge failed it when the socket closed.
    expect(afterKill).toBeLessThan(AGENT_TIMEOUT_MS);

    await world.agent.restart();
    const hosts = await world.api("/api/hosts");
    expect(hosts.body.data.hosts.find((host: { id: string }) => host.id === world.host.id)?.online).toBe(true);
    expect((await world.api(`/api/hosts/${world.host.id}/ping`)).body.data.pong).toBe(true);
    await world.api(`/api/flexy/${id}?timeout=1`, { method: "DELETE" });
  });

  it("reports the selected host's Docker engine on /api/health from its agent's last report", async () => {
    const healthy = await world.api("/api/health");
    expect(healthy.body.data.services).toEqual({ api: "healthy", docker: "healthy", database: "healthy" });
    const anonymous = await world.api("/api/health", { token: "" });
    expect(anonymous.body.data.services.docker).toBe("unknown");

    const idle = await enrollHost(world.session);
    const offline = await world.api(`/api/health?host=${idle.id}`);
    expect(offline.body.data.services.docker).toBe("offline");
    await world.api(`/api/hosts/${idle.id}`, { method: "DELETE" });
  });

  it("answers 504 AGENT_TIMEOUT when the agent is connected but frozen", async () => {
    world.agent.signal("SIGSTOP");
    try {
      const { value, ms } = await timed(world.api(`/api/hosts/${world.host.id}/ping`));
      expect(value.status).toBe(504);
      expect(value.body.error.code).toBe("AGENT_TIMEOUT");
      // The edge waited for the agent the whole timeout, not less.
      expect(ms).toBeGreaterThanOrEqual(AGENT_TIMEOUT_MS - 100);
    } finally {
      world.agent.signal("SIGCONT");
    }
    expect((await world.api(`/api/hosts/${world.host.id}/ping`)).status).toBe(200);
  });

  it("lets a second connection of the same host replace the first, which is closed with REPLACED and waits minutes to dial again", async () => {
    const second = new AgentProcess(world.edge.url, world.host.token, [world.root]);
    await second.connected();
    // Not final (a stray dial must not take the host offline for good): it stays up and retries later.
    await world.agent.waitFor(/another kai-agent with this host's token took over; retrying in \d+ s/, 10_000);
    expect(world.agent.lines.join("\n")).toContain(`code=${CLOSE_CODES.REPLACED}`);
    expect((await world.api(`/api/hosts/${world.host.id}/ping`)).status).toBe(200);
    await second.stop();
    await world.agent.restart();
  });

  it("brings the agent back by itself after the edge restarts", async () => {
    const since = world.agent.lines.length;
    await world.edge.stop();
    await world.agent.waitFor(/disconnected|reconnecting/, 10_000, since);
    const restarted = await startEdge({
      persistDir: world.edge.persistDir,
      port: world.edge.port,
      vars: { AGENT_TIMEOUT_MS: String(AGENT_TIMEOUT_MS) },
    });
    world.edge = restarted;
    await world.agent.waitFor(/ connected /, 20_000, since);
    expect((await world.api(`/api/hosts/${world.host.id}/ping`)).status).toBe(200);
  });

  it("closes the agent's socket at once when its host is deleted, and refuses the token afterwards", async () => {
    const host = await enrollHost(world.session);
    const agent = new AgentProcess(world.edge.url, host.token, [world.root]);
    await agent.connected();
    const deleted = await world.api(`/api/hosts/${host.id}`, { method: "DELETE" });
    expect(deleted.status).toBe(200);
    await agent.waitFor(/disconnected for good: this host was deleted/, 5000);
    expect(await agent.exit).toBe(EXIT_FINAL);
    expect(agent.lines.join("\n")).toContain(`code=${CLOSE_CODES.TOKEN_REVOKED}`);

    const again = new AgentProcess(world.edge.url, host.token, [world.root]);
    await again.start();
    await again.waitFor(/refused: the agent token is invalid or revoked/, 10_000);
    expect(await again.exit).toBe(EXIT_FINAL);
  });
});

describe("the bundled agent", () => {
  it("builds into one file that runs with Node alone, connects and serves", async () => {
    const outDir = await mkdtemp(path.join(os.tmpdir(), "kai-bundle-"));
    const bundle = path.join(outDir, "kai-agent.mjs");
    await promisify(execFile)(
      process.execPath,
      ["--import", "tsx", path.join(ROOT, "scripts/build-agent.ts"), "--outfile", bundle],
      { cwd: ROOT },
    );
    const host = await enrollHost(world.session);
    // The bundle sits in a temporary folder with no node_modules in reach: it must be self-contained.
    const agent = new AgentProcess(world.edge.url, host.token, [world.root], [], bundle);
    try {
      await agent.connected();
      expect((await world.api(`/api/hosts/${host.id}/ping`)).body.data.pong).toBe(true);
      expect((await world.api("/api/flexy", { headers: { "X-Kai-Host": host.id } })).status).toBe(200);
    } finally {
      await agent.stop();
      await world.api(`/api/hosts/${host.id}`, { method: "DELETE" });
      await rm(outDir, { recursive: true, force: true });
    }
  });
});

describe("the Durable Object validates every frame", () => {
  it("closes with PROTOCOL_ERROR on a frame that is not valid", async () => {
    const host = await enrollHost(world.session);
    const { socket, hostId, closed } = await rawAgentSocket(host.token);
    socket.send(hello(hostId));
    socket.send('{"type":"res","id":"not-a-uuid","ok":true}');
    expect((await closed).code).toBe(CLOSE_CODES.PROTOCOL_ERROR);
    await world.api(`/api/hosts/${host.id}`, { method: "DELETE" });
  });

  it("closes with HELLO_REQUIRED when something else comes first", async () => {
    const host = await enrollHost(world.session);
    const { socket, closed } = await rawAgentSocket(host.token);
    socket.send(JSON.stringify({ type: "event", topic: "x", seq: 0, data: {} }));
    expect((await closed).code).toBe(CLOSE_CODES.HELLO_REQUIRED);
    await world.api(`/api/hosts/${host.id}`, { method: "DELETE" });
  });

  it("closes with VERSION_UNSUPPORTED for a protocol older than the edge accepts", async () => {
    const host = await enrollHost(world.session);
    const { socket, hostId, closed } = await rawAgentSocket(host.token);
    socket.send(hello(hostId, 0));
    expect((await closed).code).toBe(CLOSE_CODES.VERSION_UNSUPPORTED);
    await world.api(`/api/hosts/${host.id}`, { method: "DELETE" });
  });

  it("answers the keepalive ping with pong", async () => {
    const host = await enrollHost(world.session);
    const { socket, hostId } = await rawAgentSocket(host.token);
    socket.send(hello(hostId));
    const pong = new Promise<string>((resolve) =>
      socket.on("message", (data) => data.toString() === "pong" && resolve("pong")),
    );
    socket.send("ping");
    expect(await pong).toBe("pong");
    socket.close();
    await world.api(`/api/hosts/${host.id}`, { method: "DELETE" });
  });

  it("refuses a connection without a valid agent token, and a personal token", async () => {
    const statusWith = (token: string) =>
      new Promise<number>((resolve, reject) => {
        const socket = new WebSocket(`${world.edge.url.replace("http", "ws")}/api/agent/connect`, {
          headers: { Authorization: `Bearer ${token}` },
        });
        socket.once("unexpected-response", (_request, response) => {
          resolve(response.statusCode ?? 0);
          socket.terminate();
        });
        socket.once("open", () => reject(new Error("the edge accepted a bad token")));
        socket.once("error", () => undefined);
      });
    expect(await statusWith("kai_agent_forged")).toBe(401);
    expect(await statusWith(world.session.token)).toBe(401);
  });
});

describe("results the edge does not expect", () => {
  it("answer INTERNAL_ERROR, and the audit log says so under the same request id", async () => {
    const host = await enrollHost(world.session);
    const { socket, hostId } = await rawAgentSocket(host.token);
    let requestId = "";
    socket.on("message", (data) => {
      const frame = JSON.parse(data.toString()) as { type: string; id: string };
      if (frame.type !== "req") return;
      requestId = frame.id;
      socket.send(JSON.stringify({ type: "res", id: frame.id, ok: true, result: { containers: "not a list" } }));
    });
    const welcomed = new Promise((resolve) => socket.once("message", resolve));
    socket.send(hello(hostId));
    await welcomed;

    const res = await world.api("/api/flexy", { headers: { "x-kai-host": host.id } });
    expect(res.status).toBe(500);
    expect(res.body.error).toMatchObject({
      code: "INTERNAL_ERROR",
      message: expect.stringContaining("unexpected result"),
    });
    const audit = await world.api("/api/audit?limit=200");
    expect(audit.body.data.entries).toContainEqual(
      expect.objectContaining({ requestId, hostId: host.id, op: "container.list", outcome: "INTERNAL_ERROR" }),
    );
    socket.close();
    await world.api(`/api/hosts/${host.id}`, { method: "DELETE" });
  });
});

describe("streamed chunks", () => {
  const line = (n: number) => ({
    timestamp: new Date(0).toISOString(),
    message: `line-${n}`,
    level: "info",
    stream: "stdout",
  });

  /** A raw agent speaking `protocolVersion` answers one log follow with `frames`; returns what the viewer got (decoded, and as sent). */
  async function followThrough(protocolVersion: number, frames: (id: string) => object[]) {
    const host = await enrollHost(world.session);
    const { socket, hostId } = await rawAgentSocket(host.token);
    const welcome = new Promise<{ protocolVersion: number }>((resolve) =>
      socket.once("message", (data) => resolve(JSON.parse(data.toString()))),
    );
    socket.send(hello(hostId, protocolVersion));
    expect((await welcome).protocolVersion).toBe(PROTOCOL_VERSION);
    socket.on("message", (data) => {
      const frame = JSON.parse(data.toString()) as { type: string; id: string };
      if (frame.type !== "req") return;
      for (const reply of frames(frame.id)) socket.send(JSON.stringify(reply));
      socket.send(
        JSON.stringify({ type: "res", id: frame.id, ok: true, result: { ended: "container-stopped", lines: 5 } }),
      );
    });
    const viewer = new WebSocket(
      `${world.edge.url.replace("http", "ws")}/api/services/raw-agent-container/logs/follow`,
      {
        headers: { authorization: `Bearer ${world.session.token}`, "x-kai-host": host.id },
      },
    );
    const received: StreamFrame<"service.logs.follow">[] = [];
    const texts: string[] = [];
    await new Promise<void>((resolve, reject) => {
      viewer.on("message", (data) => {
        texts.push(data.toString());
        const frame = streamFrameOf("service.logs.follow", data);
        received.push(frame);
        if (frame.type === "end" || frame.type === "error") resolve();
      });
      viewer.once("close", () => resolve());
      viewer.once("error", reject);
    });
    viewer.close();
    socket.close();
    await world.api(`/api/hosts/${host.id}`, { method: "DELETE" });
    return { received, texts };
  }

  const expected = [
    ...[0, 1, 2, 3, 4].map((seq) => ({ type: "chunk", seq, data: line(seq) })),
    { type: "end", result: { ended: "container-stopped", lines: 5 } },
  ];

  it("reach a viewer one frame per chunk from an agent that sends them one by one (protocol 1)", async () => {
    const { received } = await followThrough(1, (id) =>
      [0, 1, 2, 3, 4].map((seq) => ({ type: "chunk", id, seq, data: line(seq) })),
    );
    expect(received).toEqual(expected);
  });

  it("reach a viewer one frame per chunk, in order, from an agent that batches them (protocol 2)", async () => {
    const { received } = await followThrough(2, (id) => [
      { type: "chunks", id, seq: 0, data: [line(0), line(1), line(2)] },
      { type: "chunk", id, seq: 3, data: line(3) },
      { type: "chunks", id, seq: 4, data: [line(4)] },
    ]);
    expect(received).toEqual(expected);
  });

  it("drop a batched chunk that breaks the command's chunk schema, and keep the rest", async () => {
    const { received } = await followThrough(2, (id) => [
      { type: "chunks", id, seq: 0, data: [line(0), { message: 42 }, line(2), line(3), line(4)] },
    ]);
    expect(received.map((frame) => (frame.type === "chunk" ? frame.seq : frame.type))).toEqual([0, 2, 3, 4, "end"]);
  });

  it("forward only the keys a chunk's schema knows, and drop the chunks it refuses", async () => {
    const { texts } = await followThrough(2, (id) => [
      {
        type: "chunks",
        id,
        seq: 0,
        data: [
          { ...line(0), extra: "never forwarded" },
          { ...line(1), level: "loud" },
          { ...line(2), stream: "stdin" },
          { timestamp: line(3).timestamp, message: line(3).message, level: "info", other: "stdout" },
          line(4),
        ],
      },
    ]);
    // As the viewer's socket carried them, before any client-side check could strip a key.
    expect(texts.map((text) => JSON.parse(text))).toEqual([
      { type: "chunk", seq: 0, data: line(0) },
      { type: "chunk", seq: 4, data: line(4) },
      { type: "end", result: { ended: "container-stopped", lines: 5 } },
    ]);
  });
});

describe("internal headers", () => {
  it("cannot be forged by an agent to pose as a viewer of a stream", async () => {
    const host = await enrollHost(world.session);
    const url = `${world.edge.url.replace("http", "ws")}/api/agent/connect`;
    const socket = new WebSocket(url, {
      headers: {
        Authorization: `Bearer ${host.token}`,
        "X-Kai-Stream-Op": "service.logs.follow",
        "X-Kai-Stream-Params": '{"id":"x"}',
      },
    });
    // Treated as the agent it is: it must say hello, and gets REPLACED/closed like any agent, never chunk frames.
    const first = await new Promise<{ code?: number; message?: string }>((resolve) => {
      socket.once("message", (data) => resolve({ message: data.toString() }));
      socket.once("close", (code) => resolve({ code }));
      socket.once("open", () => socket.send(JSON.stringify({ type: "event", topic: "x", seq: 0, data: {} })));
    });
    expect(first.code).toBe(CLOSE_CODES.HELLO_REQUIRED);
    await world.api(`/api/hosts/${host.id}`, { method: "DELETE" });
  });
});
