import { type FeedEvent, type HostStatsFrame, sessionFeedEvent } from "../../shared/schemas/user-events";
import type { WebhookEvent } from "../../shared/schemas/webhooks";
import type { Bindings } from "../env";
import { userFeed } from "../user-feed/stub";
import type { OrderedWork } from "./ordered-work";

/**
 * The host's events for its owner's live feed (edge/user-feed/), handed over off the socket
 * path like webhooks: on the host's ordered work, so the feed gets them in the order they
 * happened and never before the D1 write they report. The owner is the one the agent's
 * connection was authenticated for, so a host's events only ever reach its own user's feed.
 */
export class FeedQueue {
  constructor(
    private readonly work: OrderedWork,
    private readonly env: Pick<Bindings, "USER_FEED">,
    /** The feed answered a snapshot "unwanted" (nobody watches): the agent is told to stop them. */
    private readonly statsUnwanted: (epoch: number) => void,
  ) {}

  publish(userId: string, event: FeedEvent): void {
    this.work.add(`publishing ${event.type} to the user's feed`, () => userFeed(this.env, userId).publish(event));
  }

  /** A stats snapshot; the feed drops it when nobody watches, and its answer then stops the agent's. */
  publishStats(userId: string, frame: HostStatsFrame): void {
    this.work.add("publishing host stats to the user's feed", async () => {
      const answer = await userFeed(this.env, userId).publishStats(frame);
      if (!answer.wanted) this.statsUnwanted(answer.epoch);
    });
  }

  /** An agent session's change that is no webhook: its status, an approval settled. */
  session(
    owner: { userId: string; hostId: string },
    event: "session.status" | "session.approval_resolved",
    sessionId: string,
    detail: Record<string, unknown>,
  ): void {
    const at = new Date().toISOString();
    this.publish(owner.userId, { type: "session", hostId: owner.hostId, at, event, sessionId, detail });
  }

  /**
   * The webhooks that are feed events too (host offline, agent-session changes), taken as the
   * host emits them, so the places that emit webhooks need no second call.
   */
  fromWebhook(userId: string, relayName: string, type: WebhookEvent, data: Record<string, unknown>): void {
    const at = new Date().toISOString();
    const hostId = typeof data.hostId === "string" ? data.hostId : relayName;
    if (type === "host.offline") {
      const hostName = String(data.hostName ?? "");
      this.publish(userId, { type, hostId, at, hostName, reason: String(data.reason ?? "") });
      return;
    }
    const event = sessionFeedEvent.safeParse(type);
    if (event.success && typeof data.sessionId === "string") {
      this.publish(userId, { type: "session", hostId, at, event: event.data, sessionId: data.sessionId, detail: data });
    }
  }
}
