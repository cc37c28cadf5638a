import { type EdgeFrame, encodeEdgeFrame } from "../../shared/protocol";

/**
 * Sends one frame to an agent's socket; false when the socket is already closed. The only
 * way the Durable Object talks to an agent, so every frame is one of the protocol's.
 */
export function sendToAgent(socket: WebSocket, frame: EdgeFrame): boolean {
  try {
    socket.send(encodeEdgeFrame(frame));
    return true;
  } catch {
    return false;
  }
}

/** Closes a socket that may already be closed. */
export function closeQuietly(socket: WebSocket, code: number, reason: string): void {
  try {
    socket.close(code, reason);
  } catch {
    // already closed
  }
}
