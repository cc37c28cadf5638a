import WebSocket from "ws";
import { type UserFeedFrame, userFeedFrame } from "../../shared/schemas/user-events";

/** How long `next` waits for its frame. */
const EVENT_MS = 30_000;

/**
 * The page's side, as lean as the dashboard's: one socket to the user's feed, each frame
 * checked against the schema and stamped with performance.now() the moment it arrives.
 */
export class FeedClient {
  #waiter: { match: (frame: UserFeedFrame) => boolean; resolve: (seen: Seen) => void } | undefined;

  private constructor(private readonly socket: WebSocket) {
    socket.on("message", (data) => {
      const arrived = performance.now();
      const frame = userFeedFrame.parse(JSON.parse(data.toString()));
      if (this.#waiter?.match(frame)) {
        this.#waiter.resolve({ frame, arrived });
        this.#waiter = undefined;
      }
    });
  }

  static open(edgeUrl: string, token: string): Promise<FeedClient> {
    const socket = new WebSocket(`${edgeUrl.replace("http", "ws")}/api/v1/ws/events`, {
      headers: { authorization: `Bearer ${token}` },
    });
    return new Promise((resolve, reject) => {
      socket.once("open", () => resolve(new FeedClient(socket)));
      socket.once("error", reject);
    });
  }

  /** The next frame matching `match`, from now on. */
  next(match: (frame: UserFeedFrame) => boolean, what: string): Promise<Seen> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${what} did not arrive in ${EVENT_MS} ms`)), EVENT_MS);
      this.#waiter = {
        match,
        resolve: (seen) => {
          clearTimeout(timer);
          resolve(seen);
        },
      };
    });
  }

  close(): void {
    this.socket.close();
  }
}

export interface Seen {
  frame: UserFeedFrame;
  arrived: number;
}
