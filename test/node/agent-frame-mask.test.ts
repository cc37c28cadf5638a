import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocketServer } from "ws";
import { masksFrames } from "../../agent/connection/dial";
import { KEEPALIVE_PING, KEEPALIVE_PONG, PROTOCOL_VERSION } from "../../shared/protocol";
import { loopAgent } from "../support/loop-agent";
import { until } from "../support/until";

/**
 * The agent masks its frames (RFC 6455) only where an intermediary could read them: a real
 * agent connection dials a real ws server that records the masking key of every frame as it
 * came off the wire, once by a loopback address and once by this machine's network address.
 */

interface WireFrame {
  masked: boolean;
  key: string;
  payload: string;
}

/** The client frames in `bytes` (complete ones), unmasked. */
function readFrames(bytes: Buffer): WireFrame[] {
  const frames: WireFrame[] = [];
  let at = 0;
  while (at + 2 <= bytes.length) {
    const second = bytes[at + 1] ?? 0;
    let length = second & 0x7f;
    let offset = at + 2;
    if (length === 126) {
      length = bytes.readUInt16BE(offset);
      offset += 2;
    } else if (length === 127) {
      length = Number(bytes.readBigUInt64BE(offset));
      offset += 8;
    }
    const masked = (second & 0x80) !== 0;
    const key = masked ? bytes.subarray(offset, offset + 4) : Buffer.alloc(4);
    if (masked) offset += 4;
    if (offset + length > bytes.length) break;
    const payload = Buffer.from(bytes.subarray(offset, offset + length)).map(
      (byte, index) => byte ^ (key[index % 4] ?? 0),
    );
    frames.push({ masked, key: key.toString("hex"), payload: Buffer.from(payload).toString() });
    at = offset + length;
  }
  return frames;
}

/** A ws server on every interface that welcomes the agent and keeps the raw bytes it sent after the upgrade. */
async function recordingEdge() {
  const server = createServer();
  const wss = new WebSocketServer({ noServer: true });
  const chunks: Buffer[] = [];
  server.on("upgrade", (request, socket, head) => {
    // Copies, taken before ws's own listener: ws unmasks the bytes it reads in place.
    chunks.push(Buffer.from(head));
    socket.on("data", (chunk: Buffer) => chunks.push(Buffer.from(chunk)));
    wss.handleUpgrade(request, socket, head, (ws) => {
      ws.on("message", (data) => {
        const text = data.toString();
        if (text === KEEPALIVE_PING) return ws.send(KEEPALIVE_PONG);
        const frame = JSON.parse(text) as { type: string; hostId: string };
        if (frame.type !== "hello") return;
        ws.send(
          JSON.stringify({ type: "welcome", protocolVersion: PROTOCOL_VERSION, hostId: frame.hostId, hostName: "h" }),
        );
      });
    });
  });
  server.listen(0, "0.0.0.0");
  await once(server, "listening");
  return {
    port: (server.address() as AddressInfo).port,
    frames: () => readFrames(Buffer.concat(chunks)),
    close: () => {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      server.close();
    },
  };
}

/** An address of this machine that is not a loopback one (the edge on a LAN, as the agent sees it). */
function networkAddress(): string {
  const found = Object.values(os.networkInterfaces())
    .flat()
    .find((address) => address && address.family === "IPv4" && !address.internal);
  if (!found) throw new Error("this test needs a network interface with an IPv4 address that is not loopback");
  return found.address;
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

/** A real agent connection to `server` that sends its keepalive every 20 ms, until it has sent `frames` frames. */
async function framesSentTo(server: string, edge: Awaited<ReturnType<typeof recordingEdge>>, frames = 4) {
  const { connection, lines } = loopAgent(server, { keepaliveMs: 20 });
  cleanups.push(() => connection.stop());
  void connection.run();
  await until(() => lines.some((line) => line.includes(" connected ")) && edge.frames().length >= frames);
  return edge.frames();
}

describe("the agent's frame masking", () => {
  it("sends its frames unmasked in effect (an all-zero key) to an edge on loopback", async () => {
    const edge = await recordingEdge();
    cleanups.push(edge.close);
    const frames = await framesSentTo(`http://127.0.0.1:${edge.port}`, edge);
    expect(JSON.parse(frames[0]?.payload ?? "{}")).toMatchObject({ type: "hello", protocolVersion: PROTOCOL_VERSION });
    // Still well-formed client frames (the mask bit is set), so any server reads them.
    for (const frame of frames) expect(frame).toMatchObject({ masked: true, key: "00000000" });
  });

  it("masks every frame with a fresh random key to an edge reached over the network in plaintext", async () => {
    const edge = await recordingEdge();
    cleanups.push(edge.close);
    const frames = await framesSentTo(`http://${networkAddress()}:${edge.port}`, edge);
    expect(JSON.parse(frames[0]?.payload ?? "{}")).toMatchObject({ type: "hello", protocolVersion: PROTOCOL_VERSION });
    for (const frame of frames) expect(frame.masked).toBe(true);
    expect(frames.filter((frame) => frame.key === "00000000")).toEqual([]);
    expect(new Set(frames.map((frame) => frame.key)).size).toBe(frames.length);
  });

  it("leaves the mask out only where nobody in between reads plaintext: TLS or this machine", () => {
    const needsMask = (url: string) => masksFrames(new URL(url));
    expect(needsMask("wss://kai.example.com/api/agent/connect")).toBe(false);
    expect(needsMask("wss://10.0.0.5:8443/api/agent/connect")).toBe(false);
    expect(needsMask("ws://127.0.0.1:8787/api/agent/connect")).toBe(false);
    expect(needsMask("ws://localhost:8787/api/agent/connect")).toBe(false);
    expect(needsMask("ws://[::1]:8787/api/agent/connect")).toBe(false);
    expect(needsMask("ws://kai.example.com/api/agent/connect")).toBe(true);
    expect(needsMask("ws://10.0.0.5:8787/api/agent/connect")).toBe(true);
    expect(needsMask("ws://127.0.0.1.example.com/api/agent/connect")).toBe(true);
  });
});
