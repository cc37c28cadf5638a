import { DurableObject } from "cloudflare:workers";
import { messageOf, type WireError } from "../../shared/errors";
import { CLOSE_CODES } from "../../shared/protocol";
import {
  type FeedEvent,
  type HostStatsFrame,
  hostStatsFrame,
  type UserFeedFrame,
} from "../../shared/schemas/user-events";
import { database } from "../db/client";
import type { Bindings } from "../env";
import { hostRelay } from "../host-relay/stub";
import { closeQuietly } from "../host-relay/to-agent";
import { EventRing } from "./event-ring";
import { onlineHostsPage } from "./online-hosts";
import { HOST_TRIES, type StatsAnswer, StatsDemand } from "./stats-demand";

/** At most this many open feed sockets per user (tabs, phones); one more is refused with 429. */
export const MAX_FEED_VIEWERS = 32;

/** Internal headers of the Worker's upgrade request (never taken from the client: see upgradeRequest). */
export const FEED_SINCE_HEADER = "X-Kai-Feed-Since";
export const FEED_CREDENTIAL_HEADER = "X-Kai-Feed-Credential";
/** The feed's user: kept, so the feed can find that user's online hosts when its first viewer comes. */
export const FEED_USER_HEADER = "X-Kai-Feed-User";
const USER_KEY = "user";

const VIEWER_TAG = "feed-viewer";
const STATS_KEY = (hostId: string) => `stats:${hostId}`;

/**
 * One per user (`idFromName(userId)`): the user's live event feed. Hosts' objects hand it
 * their events over RPC (`publish`, `publishStats`); it numbers events in a bounded ring in
 * its SQLite and fans them out to the user's viewer sockets (Hibernation API: a tag and a
 * credential tag, nothing in memory, so an idle feed sleeps).
 *
 * Replay-then-live has no gap and no repeat: `fetch` registers the socket and sends the
 * replay in one synchronous stretch, and `publish` stores and broadcasts in another, so an
 * event is either in a viewer's replay or broadcast to it, never both and never neither.
 *
 * Stats are sent only while someone watches (StatsDemand): the answer to a snapshot tells the
 * host's object to stop them when nobody does, and the first viewer starts the user's online
 * hosts again, walking them one page of D1 per alarm.
 */
export class UserFeed extends DurableObject<Bindings> {
  readonly #ring: EventRing;
  readonly #demand: StatsDemand;

  constructor(ctx: DurableObjectState, env: Bindings) {
    super(ctx, env);
    this.#ring = new EventRing(ctx.storage.sql);
    this.#demand = new StatsDemand(ctx.storage.kv);
  }

  /**
   * A viewer's socket; the Worker authenticated it and chose this user's feed. `since`
   * absent: live only; otherwise the kept events after it first (or a reset frame).
   */
  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
      return new Response("expected a WebSocket upgrade from the edge", { status: 426 });
    }
    if (this.ctx.getWebSockets(VIEWER_TAG).length >= MAX_FEED_VIEWERS) {
      const refusal: WireError = {
        code: "RATE_LIMITED",
        message: `at most ${MAX_FEED_VIEWERS} event feeds may be open at once; close another tab or device`,
      };
      return Response.json(refusal, { status: 429 });
    }
    const sinceHeader = request.headers.get(FEED_SINCE_HEADER);
    const credential = request.headers.get(FEED_CREDENTIAL_HEADER);
    const userId = request.headers.get(FEED_USER_HEADER);
    if (userId) this.ctx.storage.kv.put(USER_KEY, userId);
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server, credential ? [VIEWER_TAG, credential] : [VIEWER_TAG]);
    const replay =
      sinceHeader === null ? { events: [], latest: this.#ring.latest() } : this.#ring.replay(Number(sinceHeader));
    if ("reset" in replay) {
      const message =
        replay.reset === "expired"
          ? `events after ${sinceHeader} are no longer kept; reload your state and go on from ${replay.latest}`
          : `${sinceHeader} is not a seq this feed gave out; reload your state and go on from ${replay.latest}`;
      send(server, { type: "reset", reason: replay.reset, seq: replay.latest, message });
    } else {
      for (const event of replay.events) send(server, event);
    }
    send(server, { type: "live", seq: replay.latest });
    for (const stats of this.#stats()) send(server, stats);
    if (this.#demand.viewerJoined()) await this.ctx.storage.setAlarm(Date.now());
    return new Response(null, { status: 101, webSocket: client });
  }

  /** Numbers and keeps one of the user's events and sends it to every viewer; returns its seq. */
  async publish(event: FeedEvent): Promise<number> {
    const numbered = this.#ring.append(event);
    this.#broadcast(numbered);
    if (event.type === "host.offline") this.ctx.storage.kv.delete(STATS_KEY(event.hostId));
    return numbered.seq;
  }

  /**
   * A host's latest stats: sent to the viewers and kept as that host's snapshot for the
   * next one to connect (also in the grace after the last left, so a reload gets fresh ones).
   * Past that it is dropped, so a feed nobody looks at costs no writes, and the answer says
   * "unwanted": the host's object stops its agent's snapshots until a viewer comes.
   */
  async publishStats(frame: HostStatsFrame): Promise<StatsAnswer> {
    const watched = this.ctx.getWebSockets(VIEWER_TAG).length > 0;
    const answer = this.#demand.answer(watched);
    if (!answer.wanted) return answer;
    this.ctx.storage.kv.put(STATS_KEY(frame.hostId), frame);
    if (watched) this.#broadcast(frame);
    return answer;
  }

  /**
   * The walk a first viewer started: one page of the user's online hosts, each told to send
   * stats (a snapshot at once), then the next page on the next alarm, so no invocation holds
   * more than one bounded read and one page of calls. A host that connects meanwhile needs no
   * call: its first snapshot is answered "wanted". A page whose read failed is read again
   * later, with backoff. A host whose call failed is called again on its own, with backoff,
   * while the walk goes on to later pages (until every host was told, some would stay off
   * while someone watches); one whose object keeps failing is given up after HOST_TRIES calls.
   */
  override async alarm(): Promise<void> {
    const userId = this.ctx.storage.kv.get<string>(USER_KEY);
    if (!userId) return;
    const retries = this.#demand.retriesDue();
    if (retries) await this.#start(userId, retries.epoch, retries.hostIds);
    await this.#walkPage(userId);
    const next = this.#demand.nextAlarm();
    if (next !== undefined) await this.ctx.storage.setAlarm(next);
  }

  /** Reads the walk's next page of online hosts and tells them to send stats; a failed read stays due. */
  async #walkPage(userId: string): Promise<void> {
    const walk = this.#demand.pageDue();
    if (!walk) return;
    let page: Awaited<ReturnType<typeof onlineHostsPage>>;
    try {
      page = await onlineHostsPage(database(this.env.DB), userId, walk.from);
    } catch (error) {
      const retryMs = this.#demand.walkFailed(walk.epoch);
      const then = retryMs === undefined ? "that walk is no longer due" : `retry in ${retryMs} ms`;
      console.error(`user ${userId}: online hosts not read to send stats (${messageOf(error)}); ${then}`);
      return;
    }
    await this.#start(userId, walk.epoch, page.hostIds);
    this.#demand.walked(walk.epoch, page.next);
  }

  /** Tells `hostIds` to send stats (as of `epoch`); those whose call failed are kept for a retry. */
  async #start(userId: string, epoch: number, hostIds: string[]): Promise<void> {
    const calls = await Promise.allSettled(hostIds.map((hostId) => hostRelay(this.env, hostId).sendHostStats(epoch)));
    const failed = hostIds.filter((_hostId, index) => calls[index]?.status === "rejected");
    const told = hostIds.filter((_hostId, index) => calls[index]?.status === "fulfilled");
    const givenUp = this.#demand.hostsCalled(epoch, told, failed);
    const firstError = calls.find((call) => call.status === "rejected")?.reason;
    if (failed.length > 0) {
      console.error(
        `user ${userId}: ${failed.length} of ${hostIds.length} hosts not told to send stats (${messageOf(firstError)}); each is tried again later`,
      );
    }
    for (const hostId of givenUp) {
      console.error(
        `user ${userId}: host ${hostId} not told to send stats after ${HOST_TRIES} tries, given up: it sends them again on its next connect`,
      );
    }
  }

  /** Closes the viewers `credential` opened (it was revoked); returns how many. */
  async closeViewers(credential: string): Promise<number> {
    const sockets = this.ctx.getWebSockets(credential);
    for (const socket of sockets) {
      send(socket, {
        type: "error",
        code: "UNAUTHORIZED",
        message: "the credential that opened this feed was revoked or its session ended; sign in again",
      });
      closeQuietly(socket, CLOSE_CODES.CREDENTIAL_REVOKED, "the credential was revoked");
    }
    if (sockets.length > 0) this.#viewerLeft(sockets);
    return sockets.length;
  }

  /** Viewers only listen; whatever they send is ignored. */
  override async webSocketMessage(): Promise<void> {}

  override async webSocketClose(socket: WebSocket): Promise<void> {
    closeQuietly(socket, 1000, "bye");
    this.#viewerLeft([socket]);
  }

  override async webSocketError(socket: WebSocket): Promise<void> {
    closeQuietly(socket, 1011, "socket error");
    this.#viewerLeft([socket]);
  }

  /** Starts the grace when `gone` were the last viewers (closing sockets may still be listed). */
  #viewerLeft(gone: WebSocket[]): void {
    const open = this.ctx.getWebSockets(VIEWER_TAG).filter((socket) => !gone.includes(socket));
    if (open.length === 0) this.#demand.lastViewerLeft();
  }

  #stats(): HostStatsFrame[] {
    const frames: HostStatsFrame[] = [];
    for (const [, value] of this.ctx.storage.kv.list({ prefix: "stats:" })) {
      const parsed = hostStatsFrame.safeParse(value);
      if (parsed.success) frames.push(parsed.data);
    }
    return frames;
  }

  #broadcast(frame: UserFeedFrame): void {
    const text = JSON.stringify(frame);
    for (const socket of this.ctx.getWebSockets(VIEWER_TAG)) sendText(socket, text);
  }
}

function send(socket: WebSocket, frame: UserFeedFrame): void {
  sendText(socket, JSON.stringify(frame));
}

/** A viewer that already left must not make the publish that sends to it throw. */
function sendText(socket: WebSocket, text: string): void {
  try {
    socket.send(text);
  } catch {
    // gone; its close hook cleans up
  }
}
