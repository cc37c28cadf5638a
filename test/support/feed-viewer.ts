import WebSocket from "ws";
import { type NumberedFeedEvent, type UserFeedFrame, userFeedFrame } from "../../shared/schemas/user-events";
import { until } from "./until";

/**
 * A client of `WS /api/v1/ws/events`, as the dashboard is: every frame is checked against
 * the UserFeedFrame schema (a frame of another shape fails the test), numbered events are
 * kept apart from the rest.
 */
export class FeedViewer {
  readonly frames: UserFeedFrame[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly #socket: WebSocket;

  private constructor(socket: WebSocket) {
    this.#socket = socket;
    socket.on("message", (data) => this.frames.push(userFeedFrame.parse(JSON.parse(data.toString()))));
    this.closed = new Promise((resolve) =>
      socket.once("close", (code, reason) => resolve({ code, reason: reason.toString() })),
    );
  }

  static open(edgeUrl: string, token: string, since?: number): Promise<FeedViewer> {
    const query = since === undefined ? "" : `?since=${since}`;
    const socket = new WebSocket(`${edgeUrl.replace("http", "ws")}/api/v1/ws/events${query}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const viewer = new FeedViewer(socket);
    return new Promise((resolve, reject) => {
      socket.once("open", () => resolve(viewer));
      socket.once("unexpected-response", (_request, response) =>
        reject(new Error(`the event feed was refused: ${response.statusCode}`)),
      );
      socket.once("error", reject);
    });
  }

  /** The numbered events, in the order they came. */
  events(): NumberedFeedEvent[] {
    return this.frames.filter((frame): frame is NumberedFeedEvent => "seq" in frame && "hostId" in frame);
  }

  /** Waits for a frame matching `match` (seen already or to come) and returns it. */
  async waitFor<T extends UserFeedFrame = UserFeedFrame>(
    match: (frame: UserFeedFrame) => boolean,
    what: string,
    ms = 30_000,
  ): Promise<T> {
    await until(() => this.frames.some(match), ms, what);
    return this.frames.find(match) as T;
  }

  close(): void {
    this.#socket.close();
  }
}
