import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { type WebSocket, WebSocketServer } from "ws";
import { Backoff } from "../../agent/backoff";
import { REPLACED_JITTER_MS, REPLACED_RETRY_MS } from "../../agent/connection";
import type { EngineStreamHooks } from "../../agent/connection/docker-state-follower";
import {
  agentFrame,
  CLOSE_CODES,
  DOCKER_STATE_TOPIC,
  HOST_STATS_ON_DEMAND,
  PROTOCOL_VERSION,
  parseFrame,
} from "../../shared/protocol";
import { loopAgent } from "../support/loop-agent";
import { until } from "../support/until";

/**
 * A protocol peer standing in for the edge: a real HTTP server and WebSocket endpoint on
 * loopback that the real connection loop dials, so reconnects, close codes and keepalive
 * can be driven precisely.
 */
async function fakeEdge(options: { refuseWith?: number; retryAfter?: number; answerPings?: boolean } = {}) {
  const server = createServer();
  const wss = new WebSocketServer({ noServer: true });
  const sockets: WebSocket[] = [];
  const frames: unknown[] = [];
  server.on("upgrade", (request, socket, head) => {
    if (options.refuseWith) {
      // The agent hangs up on a refusal; a reset here is expected, not a test failure.
      socket.on("error", () => undefined);
      const retryAfter = options.retryAfter ? `Retry-After: ${options.retryAfter}\r\n` : "";
      socket.end(`HTTP/1.1 ${options.refuseWith} Refused\r\n${retryAfter}Content-Length: 0\r\n\r\n`);
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => {
      sockets.push(ws);
      ws.on("message", (data) => {
        const text = data.toString();
        if (text === "ping") {
          if (options.answerPings !== false) ws.send("pong");
          return;
        }
        const frame = parseFrame(agentFrame, text);
        frames.push(frame ?? { invalid: text });
        if (frame?.type === "hello")
          ws.send(
            JSON.stringify({
              type: "welcome",
              protocolVersion: PROTOCOL_VERSION,
              hostId: frame.hostId,
              hostName: "peer",
            }),
          );
      });
    });
  });
  wss.on("headers", (headers) => headers.push("X-Kai-Host-Id: host-from-edge"));
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    sockets,
    frames,
    close: async () => {
      for (const ws of sockets) ws.terminate();
      wss.close();
      server.close();
    },
  };
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

function agent(url: string, extra: Parameters<typeof loopAgent>[1] = {}) {
  const made = loopAgent(url, { backoff: new Backoff({ random: () => 1 }), ...extra });
  cleanups.push(() => made.connection.stop());
  return made;
}

describe("agent connection loop", () => {
  it("says hello with the host id from the edge, its version, the engine's state and its agent profiles", async () => {
    const edge = await fakeEdge();
    cleanups.push(edge.close);
    const claude = { name: "claude", command: "claude-agent-acp", args: [], default: true };
    const { connection, lines } = agent(edge.url, { agentProfiles: [claude] });
    void connection.run();
    await until(() => lines.some((line) => line.includes(" connected ")));
    expect(edge.frames[0]).toMatchObject({
      type: "hello",
      protocolVersion: PROTOCOL_VERSION,
      hostId: "host-from-edge",
      docker: { ok: true, version: "test-engine" },
      arch: process.arch,
      capabilities: ["agent-sessions", HOST_STATS_ON_DEMAND],
      agentProfiles: [claude],
    });
    expect(agentFrame.safeParse(edge.frames[0]).success).toBe(true);
  });

  it("asks the engine's state as it dials, bounded tighter for the hello than for the liveness check", async () => {
    const edge = await fakeEdge();
    cleanups.push(edge.close);
    const asked: { timeoutMs: number; upgradedBefore: number }[] = [];
    const { connection } = agent(edge.url, {
      dockerCheckMs: 20,
      dockerState: async (timeoutMs) => {
        asked.push({ timeoutMs, upgradedBefore: edge.sockets.length });
        return { ok: true, version: "test-engine" };
      },
    });
    void connection.run();
    await until(() => asked.length >= 3);
    // The first, for the hello, before the dial reached the edge: the engine is asked while the
    // dial waits for its turn, not after, when the connect holds it.
    expect(asked[0]).toEqual({ timeoutMs: 2_500, upgradedBefore: 0 });
    expect(asked.slice(1).map((one) => one.timeoutMs)).toEqual(asked.slice(1).map(() => 10_000));
  });

  it("publishes the Docker state as the engine's event stream, which the welcomed work watches, ends and opens", async () => {
    const edge = await fakeEdge();
    cleanups.push(edge.close);
    let engine: { ok: boolean; version: string | null } = { ok: true, version: "test-engine" };
    let asked = 0;
    let engineStream: EngineStreamHooks | undefined;
    const { connection } = agent(edge.url, {
      dockerState: async () => {
        asked += 1;
        return engine;
      },
      whileConnected: (_hostId, _publish, _signal, _asks, stream) => {
        engineStream = stream;
      },
    });
    void connection.run();
    await until(() => engineStream !== undefined);
    const states = () =>
      edge.frames
        .filter((frame) => (frame as { topic?: string }).topic === DOCKER_STATE_TOPIC)
        .map((frame) => (frame as { data: unknown }).data);
    // The engine stops: its stream ends, and the state is published without waiting for a poll.
    engine = { ok: false, version: null };
    engineStream?.lost();
    await until(() => states().length === 1);
    // It comes back upgraded: the stream opens again, and the new version is published.
    engine = { ok: true, version: "upgraded-engine" };
    engineStream?.opened();
    await until(() => states().length === 2);
    expect(states()).toEqual([
      { ok: false, version: null },
      { ok: true, version: "upgraded-engine" },
    ]);
    // The hello's check and one for each change of the stream: no other (the liveness check is minutes away).
    expect(asked).toBe(3);
  });

  it("hands the edge's stats frames to the work running while it is welcomed", async () => {
    const edge = await fakeEdge();
    cleanups.push(edge.close);
    const asked: boolean[] = [];
    let welcomed = false;
    const { connection } = agent(edge.url, {
      whileConnected: (_hostId, _publish, _signal, asks) => {
        welcomed = true;
        asks.hostStats = (send) => asked.push(send);
      },
    });
    void connection.run();
    await until(() => welcomed);
    for (const send of [false, true]) edge.sockets[0]?.send(JSON.stringify({ type: "stats", send }));
    await until(() => asked.length === 2);
    expect(asked).toEqual([false, true]);
  });

  it("reconnects after the edge drops it, starting again from the shortest delay once welcomed", async () => {
    const edge = await fakeEdge();
    cleanups.push(edge.close);
    const delays: number[] = [];
    const { connection } = agent(edge.url, {
      sleep: async (ms) => {
        delays.push(ms);
      },
    });
    void connection.run();
    const hellos = () => edge.frames.filter((frame) => (frame as { type?: string }).type === "hello").length;
    // Drop every connection once it has been welcomed (the welcome answers its hello), eight times.
    for (let i = 1; i <= 8; i++) {
      await until(() => hellos() >= i);
      edge.sockets[i - 1]?.close(1011, "edge restarting");
    }
    await until(() => delays.length >= 7);
    // Each drop happens after a welcome, which resets the backoff: every delay is the first
    // step again (without the reset they would double: 100, 200, 400 …).
    expect(delays.slice(0, 7)).toEqual([100, 100, 100, 100, 100, 100, 100]);
  });

  /** Runs an agent against an edge that refuses every dial, and returns the delays it chose between dials. */
  async function delaysWhileRefused(
    refusal: { refuseWith: number; retryAfter?: number },
    count: number,
  ): Promise<number[]> {
    const edge = await fakeEdge(refusal);
    cleanups.push(edge.close);
    const delays: number[] = [];
    const { connection } = agent(edge.url, {
      sleep: async (ms) => {
        delays.push(ms);
      },
    });
    void connection.run();
    await until(() => delays.length >= count);
    connection.stop();
    return delays;
  }

  it("backs off exponentially while the edge keeps refusing, up to the cap", async () => {
    const delays = await delaysWhileRefused({ refuseWith: 503 }, 10);
    expect(delays.slice(0, 8)).toEqual([100, 200, 400, 800, 1600, 3200, 6400, 10_000]);
    expect(Math.max(...delays)).toBe(10_000);
  });

  it("waits as long as the edge's Retry-After says when it is busy, not its shorter backoff step", async () => {
    const delays = await delaysWhileRefused({ refuseWith: 429, retryAfter: 7 }, 3);
    for (const delay of delays.slice(0, 3)) {
      expect(delay).toBeGreaterThanOrEqual(7000);
      expect(delay).toBeLessThanOrEqual(8000);
    }
  });

  it("keeps to the edge's Retry-After even after failures grew its backoff, and does not grow the backoff with it", async () => {
    // Three failures without one (backoff 100, 200, 400), three refusals with one, then failures again.
    const refusal: { refuseWith: number; retryAfter?: number } = { refuseWith: 503 };
    const edge = await fakeEdge(refusal);
    cleanups.push(edge.close);
    const delays: number[] = [];
    const { connection } = agent(edge.url, {
      random: () => 0.5,
      sleep: async (ms) => {
        delays.push(ms);
        if (delays.length === 3) Object.assign(refusal, { refuseWith: 429, retryAfter: 2 });
        if (delays.length === 6) Object.assign(refusal, { refuseWith: 503, retryAfter: undefined });
      },
    });
    void connection.run();
    await until(() => delays.length >= 7);
    connection.stop();
    // The edge's 2 s plus half the second of jitter, then the backoff's next step after 400 ms.
    expect(delays.slice(0, 7)).toEqual([100, 200, 400, 2500, 2500, 2500, 800]);
  });

  it("stops for good when the token is refused", async () => {
    const edge = await fakeEdge({ refuseWith: 401 });
    cleanups.push(edge.close);
    const { connection, lines } = agent(edge.url);
    expect(await connection.run()).toBe("token refused");
    expect(lines.join("\n")).toContain("refused: the agent token is invalid or revoked");
  });

  it.each([
    [CLOSE_CODES.TOKEN_REVOKED, "this host was deleted"],
    [CLOSE_CODES.VERSION_UNSUPPORTED, "run kai-agent upgrade"],
  ])("stops for good on close code %i", async (code, words) => {
    const edge = await fakeEdge();
    cleanups.push(edge.close);
    const { connection, lines } = agent(edge.url);
    const ended = connection.run();
    await until(() => lines.some((line) => line.includes(" connected ")));
    edge.sockets[0]?.close(code, "bye");
    expect(await ended).toContain(words);
  });

  it("refused for its protocol, logs the edge's reason with the upgrade and the install line for its server", async () => {
    const edge = await fakeEdge();
    cleanups.push(edge.close);
    const { connection, lines } = agent(edge.url);
    const ended = connection.run();
    await until(() => lines.some((line) => line.includes(" connected ")));
    const reason = "protocol 0 unsupported (edge speaks 1-2): run kai-agent upgrade";
    edge.sockets[0]?.close(CLOSE_CODES.VERSION_UNSUPPORTED, reason);
    const said = await ended;
    expect(said).toContain(reason);
    expect(said).toContain(`curl -fsSL ${edge.url}/install.sh | sh`);
    expect(lines.find((line) => line.includes("disconnected for good"))).toContain(said);
    // Final: it never dials again.
    expect(edge.sockets).toHaveLength(1);
  });

  it("replaced by another agent, waits minutes (not seconds), says why, and dials again", async () => {
    const edge = await fakeEdge();
    cleanups.push(edge.close);
    const delays: number[] = [];
    const { connection, lines } = agent(edge.url, {
      random: () => 0.5,
      sleep: async (ms) => {
        delays.push(ms);
      },
    });
    const ended = connection.run();
    await until(() => lines.some((line) => line.includes(" connected ")));
    edge.sockets[0]?.close(CLOSE_CODES.REPLACED, "replaced by a newer connection");
    // It comes back on its own after the long wait, and is welcomed again.
    await until(() => edge.sockets.length >= 2);
    await until(() => lines.filter((line) => line.includes(" connected ")).length >= 2);
    expect(delays).toEqual([REPLACED_RETRY_MS + REPLACED_JITTER_MS / 2]);
    expect(delays[0]).toBeGreaterThanOrEqual(60_000);
    const warning = lines.find((line) => line.includes("took over")) ?? "";
    expect(warning).toContain("another kai-agent with this host's token took over; retrying in 90 s");
    expect(warning).toContain("stop the other one or enroll this machine separately");
    connection.stop();
    expect(await ended).toBe("stopped");
  });

  it("drops a connection whose keepalive goes unanswered, and dials again", async () => {
    const edge = await fakeEdge({ answerPings: false });
    cleanups.push(edge.close);
    const { connection, lines } = agent(edge.url, { keepaliveMs: 50, sleep: async () => undefined });
    void connection.run();
    await until(() => lines.some((line) => line.includes("no keepalive answer")));
    await until(() => edge.sockets.length >= 2);
  });
});
