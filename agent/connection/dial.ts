import os from "node:os";
import WebSocket from "ws";
import {
  type AgentFrame,
  encodeAgentFrame,
  type HelloFrame,
  HOST_STATS_ON_DEMAND,
  MAX_CONNECT_WAIT_MS,
  MAX_FRAME_BYTES,
  PROTOCOL_VERSION,
} from "../../shared/protocol";
import type { AgentProfileInfo } from "../../shared/schemas/agent-profiles";
import { AGENT_VERSION } from "../../shared/version";
import { isLoopback } from "../loopback";

/** The edge names the host in this header of its upgrade answer; `hello` repeats it back. */
export const HOST_ID_HEADER = "x-kai-host-id";

export function connectUrl(server: string): string {
  const url = new URL("/api/agent/connect", server);
  url.protocol = url.protocol === "https:" ? "wss:" : url.protocol === "http:" ? "ws:" : url.protocol;
  return url.toString();
}

/**
 * How long a dial may take to be upgraded. The edge may hold it for its turn in the connect
 * pace (MAX_CONNECT_WAIT_MS) and then record it, so the agent waits well beyond that: a dial
 * given up while the edge is still working on it wastes that work, and with a whole fleet
 * dialling again after a restart, a slow edge would then admit nobody (`bench/fleet.ts`
 * measured that with a 15 s timeout).
 */
const HANDSHAKE_TIMEOUT_MS = MAX_CONNECT_WAIT_MS + 20_000;

/**
 * Whether the agent's frames to `url` need RFC 6455's random mask. The mask keeps a script
 * from choosing the bytes a plaintext intermediary (a proxy, a cache) reads, which could poison
 * it. Over TLS nobody in between reads plaintext, and a loopback server has nobody in between:
 * there the mask buys nothing, while ws copies and XORs every byte the agent sends, in
 * JavaScript (the bundle has no bufferutil), a busy log follow's lines included.
 */
export function masksFrames(url: URL): boolean {
  return url.protocol !== "wss:" && !isLoopback(url.hostname);
}

/** An all-zero key: ws then sends the frame's bytes as they are (`skipMasking`, ws/lib/sender.js). */
function zeroMask(mask: Buffer): void {
  mask.fill(0);
}

/** Opens the agent's one WebSocket to the edge, authenticated by the host's token. */
export function dial(url: string, token: string): WebSocket {
  return new WebSocket(url, {
    ...(masksFrames(new URL(url)) ? {} : { generateMask: zeroMask }),
    headers: { Authorization: `Bearer ${token}` },
    maxPayload: MAX_FRAME_BYTES,
    handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
    // Frames are small JSON or base64 file chunks: compressing each one costs more CPU on
    // both ends than it saves on the wire, and it caps the relay's frame rate.
    perMessageDeflate: false,
  });
}

/**
 * The first frame the agent sends: who it is, what it runs on, the Docker engine's state, and
 * the agent profiles its owner allows (what they run, never their environment).
 */
export function helloFrame(
  hostId: string,
  docker: HelloFrame["docker"],
  agentProfiles: AgentProfileInfo[] = [],
): HelloFrame {
  return {
    type: "hello",
    protocolVersion: PROTOCOL_VERSION,
    agentVersion: AGENT_VERSION,
    hostId,
    capabilities: ["agent-sessions", HOST_STATS_ON_DEMAND],
    docker,
    os: `${os.type()} ${os.release()}`,
    arch: os.arch(),
    hostname: os.hostname(),
    agentProfiles,
  };
}

/** Sends one frame's text if the socket is open; a frame for a closing socket has nobody to read it. */
export function sendText(socket: WebSocket, text: string): void {
  if (socket.readyState === WebSocket.OPEN) socket.send(text);
}

/** Sends one of the protocol's agent frames (the RPC layer sends its replies as text it already encoded). */
export function sendFrame(socket: WebSocket, frame: AgentFrame): void {
  sendText(socket, encodeAgentFrame(frame));
}
