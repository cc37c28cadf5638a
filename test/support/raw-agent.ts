import WebSocket from "ws";
import { PROTOCOL_VERSION } from "../../shared/protocol";

/**
 * A socket on `/api/agent/connect` driven by hand, to speak (or abuse) the agent protocol
 * the way a stray or hostile dial with a real agent token would.
 */
export interface RawAgent {
  socket: WebSocket;
  /** What the edge named in `X-Kai-Host-Id`. */
  hostId: string;
  /** Every text frame the edge sent, parsed. */
  frames: { type: string; id?: string; op?: string }[];
  closed: Promise<{ code: number; reason: string }>;
}

export function dialAgent(edgeUrl: string, token: string): Promise<RawAgent> {
  const socket = new WebSocket(`${edgeUrl.replace("http", "ws")}/api/agent/connect`, {
    headers: { Authorization: `Bearer ${token}` },
  });
  const frames: RawAgent["frames"] = [];
  socket.on("message", (data) => {
    const text = data.toString();
    if (text !== "pong") frames.push(JSON.parse(text));
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.once("close", (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  return new Promise((resolve, reject) => {
    let hostId = "";
    socket.once("upgrade", (response) => (hostId = String(response.headers["x-kai-host-id"])));
    socket.once("open", () => resolve({ socket, hostId, frames, closed }));
    socket.once("error", reject);
  });
}

export const helloFrame = (hostId: string, protocolVersion = PROTOCOL_VERSION) =>
  JSON.stringify({
    type: "hello",
    protocolVersion,
    agentVersion: "raw-test",
    hostId,
    capabilities: [],
    docker: { ok: true, version: "x" },
    os: "test",
    arch: "x64",
    hostname: "raw",
  });
