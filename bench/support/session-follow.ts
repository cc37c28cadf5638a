import WebSocket from "ws";
import { type AgentMessage, agentMessage } from "../../shared/schemas/agent-sessions";

/**
 * A viewer of `WS /api/v1/ws/agent-sessions/{id}` for the benchmarks: every frame checked
 * against the AgentMessage schema as a client would, stamped with the moment it arrived, its
 * seq checked to go up by one. Not the tests' SessionViewer: that one waits by polling
 * through vitest, which cannot load outside a test run, and keeps no arrival times.
 */

export interface Arrival {
  message: AgentMessage;
  /** performance.now() when the frame arrived. */
  at: number;
}

export class SessionFollow {
  readonly arrivals: Arrival[] = [];
  /** Unnumbered replies to this viewer's own frames (errors). */
  readonly replies: unknown[] = [];
  /** Frames whose seq was not the previous one's plus one (lost, repeated or reordered). */
  seqBreaks = 0;
  readonly #socket: WebSocket;
  #waiters: { from: number; match: (message: AgentMessage) => boolean; resolve: (arrival: Arrival) => void }[] = [];

  private constructor(socket: WebSocket) {
    this.#socket = socket;
    socket.on("message", (data) => {
      const at = performance.now();
      const value = JSON.parse(data.toString());
      if (value.seq === undefined) {
        this.replies.push(value);
        return;
      }
      const message = agentMessage.parse(value);
      const previous = this.arrivals.at(-1)?.message.seq;
      if (previous !== undefined && message.seq !== previous + 1) this.seqBreaks += 1;
      const arrival = { message, at };
      this.arrivals.push(arrival);
      const index = this.arrivals.length - 1;
      this.#waiters = this.#waiters.filter((waiter) => {
        if (index < waiter.from || !waiter.match(message)) return true;
        waiter.resolve(arrival);
        return false;
      });
    });
  }

  /** Opens a viewer that has seen everything up to `since` (default: nothing). */
  static open(edgeUrl: string, token: string, sessionId: string, since = 0): Promise<SessionFollow> {
    const url = `${edgeUrl.replace(/^http/, "ws")}/api/v1/ws/agent-sessions/${sessionId}?since=${since}`;
    // No permessage-deflate offer: Kai's edge declines it, wrangler's dev proxy would not (see follow-client.ts).
    const socket = new WebSocket(url, { headers: { authorization: `Bearer ${token}` }, perMessageDeflate: false });
    const follow = new SessionFollow(socket);
    return new Promise((resolve, reject) => {
      socket.once("open", () => resolve(follow));
      socket.once("unexpected-response", (_request, response) =>
        reject(new Error(`the session stream was refused: HTTP ${response.statusCode}`)),
      );
      socket.once("error", reject);
    });
  }

  get lastSeq(): number {
    return this.arrivals.at(-1)?.message.seq ?? 0;
  }

  send(frame: unknown): void {
    this.#socket.send(JSON.stringify(frame));
  }

  /** The first message matching `match` at or after arrival index `from` (already here or to come). */
  next(match: (message: AgentMessage) => boolean, from: number, timeoutMs: number, what: string): Promise<Arrival> {
    const seen = this.arrivals.slice(from).find((arrival) => match(arrival.message));
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((waiter) => waiter.resolve !== done);
        reject(new Error(`${what} did not arrive within ${timeoutMs} ms (replies: ${JSON.stringify(this.replies)})`));
      }, timeoutMs);
      const done = (arrival: Arrival) => {
        clearTimeout(timer);
        resolve(arrival);
      };
      this.#waiters.push({ from, match, resolve: done });
    });
  }

  /** The turn's last message, `done` or `error`. */
  turnEnd(runId: string, timeoutMs: number): Promise<Arrival> {
    return this.next(
      (message) => message.run_id === runId && (message.type === "done" || message.type === "error"),
      0,
      timeoutMs,
      `the end of run ${runId}`,
    );
  }

  close(): void {
    this.#socket.terminate();
  }
}
