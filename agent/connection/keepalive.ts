import WebSocket from "ws";
import { KEEPALIVE_PING } from "../../shared/protocol";
import type { Logger } from "../log";

/**
 * Pings the edge every `intervalMs`; two intervals without a pong mean the path is dead even
 * if TCP has not noticed yet, and the socket is terminated so the reconnect loop dials again.
 */
export class Keepalive {
  readonly #timer: ReturnType<typeof setInterval>;
  #awaitingPong = false;

  constructor(socket: WebSocket, intervalMs: number, log: Logger) {
    this.#timer = setInterval(() => {
      if (socket.readyState !== WebSocket.OPEN) return;
      if (this.#awaitingPong) {
        log("warn", "no keepalive answer from the edge; reconnecting");
        socket.terminate();
        return;
      }
      this.#awaitingPong = true;
      socket.send(KEEPALIVE_PING);
    }, intervalMs);
  }

  /** The edge answered. */
  pong(): void {
    this.#awaitingPong = false;
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
