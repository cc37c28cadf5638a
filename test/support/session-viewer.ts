import WebSocket from "ws";
import {
  type AgentMessage,
  type AgentSessionNotice,
  agentMessage,
  agentSessionNotice,
} from "../../shared/schemas/agent-sessions";
import { until } from "./until";

/**
 * A client of `WS /api/v1/ws/agent-sessions/{id}`, as a dashboard or a phone would be: every
 * frame is checked against the AgentMessage schema; notices (not numbered: replies to its own
 * frames, withdrawn approvals) are checked against theirs and kept apart.
 */
export class SessionViewer {
  readonly messages: AgentMessage[] = [];
  /** Unnumbered frames: `error` replies to frames this viewer sent, approvals withdrawn by the edge. */
  readonly notices: AgentSessionNotice[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly #socket: WebSocket;

  private constructor(socket: WebSocket) {
    this.#socket = socket;
    socket.on("message", (data) => {
      const value = JSON.parse(data.toString());
      if (value.seq === undefined) this.notices.push(agentSessionNotice.parse(value));
      else this.messages.push(agentMessage.parse(value));
    });
    this.closed = new Promise((resolve) =>
      socket.once("close", (code, reason) => resolve({ code, reason: reason.toString() })),
    );
  }

  static open(edgeUrl: string, token: string, sessionId: string, since?: number): Promise<SessionViewer> {
    const query = since === undefined ? "" : `?since=${since}`;
    const url = `${edgeUrl.replace("http", "ws")}/api/v1/ws/agent-sessions/${sessionId}${query}`;
    const socket = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } });
    const viewer = new SessionViewer(socket);
    return new Promise((resolve, reject) => {
      socket.once("open", () => resolve(viewer));
      socket.once("unexpected-response", (_request, response) =>
        reject(new Error(`the session stream was refused: ${response.statusCode}`)),
      );
      socket.once("error", reject);
    });
  }

  /** Stops reading from the socket, as a phone on a stalled network does; frames queue up meanwhile. */
  pause(): void {
    this.#socket.pause();
  }

  resume(): void {
    this.#socket.resume();
  }

  send(frame: unknown): void {
    this.#socket.send(JSON.stringify(frame));
  }

  /** Waits for a message matching `match` (seen already or to come) and returns it. */
  async waitFor(match: (message: AgentMessage) => boolean, what: string, ms = 30_000): Promise<AgentMessage> {
    await until(() => this.messages.some(match), ms, what);
    return this.messages.find(match) as AgentMessage;
  }

  /** The turn's last message, `done` or `error`. */
  turnEnd(runId: string, ms = 30_000): Promise<AgentMessage> {
    return this.waitFor(
      (message) => message.run_id === runId && (message.type === "done" || message.type === "error"),
      `the end of run ${runId}`,
      ms,
    );
  }

  close(): void {
    this.#socket.close();
  }
}
