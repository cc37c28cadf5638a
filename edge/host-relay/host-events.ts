import { CONTAINER_EVENT_TOPIC, DOCKER_STATE_TOPIC, dockerState, HOST_STATS_TOPIC } from "../../shared/protocol";
import { containerEvent } from "../../shared/schemas/services";
import { hostStatsData } from "../../shared/schemas/user-events";
import { database } from "../db/client";
import type { Bindings } from "../env";
import { recordDockerState } from "../hosts/presence";
import { KillMemory, webhookEventsFor } from "../webhooks/events";
import type { AgentAttachment } from "./attachment";
import type { FeedQueue } from "./feed-queue";
import type { WebhookQueue } from "./webhook-queue";

/**
 * Events an agent reports on its own, tied to no request: its engine's state (written to the
 * host's row), container lifecycle from Docker (webhooks) and stats snapshots; all three also
 * go to the owner's live feed. Anything else is ignored, so an older edge tolerates a newer
 * agent's topics.
 */
export class HostEvents {
  readonly #kills = new KillMemory();

  constructor(
    private readonly env: Bindings,
    private readonly webhooks: WebhookQueue,
    private readonly feed: FeedQueue,
  ) {}

  async received(from: AgentAttachment, topic: string, data: unknown): Promise<void> {
    if (topic === DOCKER_STATE_TOPIC) {
      const docker = dockerState.safeParse(data);
      if (!docker.success) return;
      await recordDockerState(database(this.env.DB), from.hostId, docker.data);
      this.feed.publish(from.userId, { type: "host.docker", hostId: from.hostId, at: now(), docker: docker.data });
    } else if (topic === CONTAINER_EVENT_TOPIC) {
      const event = containerEvent.safeParse(data);
      if (!event.success) return;
      const killedRecently = this.#kills.note(event.data);
      const payload = { hostId: from.hostId, hostName: from.hostName, ...event.data };
      for (const type of webhookEventsFor(event.data, killedRecently)) {
        this.webhooks.emit(from.userId, type, payload);
      }
      const { hostId, hostName } = from;
      this.feed.publish(from.userId, { type: "container", hostId, hostName, at: now(), event: event.data });
    } else if (topic === HOST_STATS_TOPIC) {
      const stats = hostStatsData.safeParse(data);
      if (stats.success) {
        this.feed.publishStats(from.userId, { type: "host.stats", hostId: from.hostId, at: now(), stats: stats.data });
      }
    }
  }
}

const now = () => new Date().toISOString();
