import { CONTAINER_EVENT_TOPIC, DOCKER_STATE_TOPIC, dockerState } from "../../shared/protocol";
import { containerEvent } from "../../shared/schemas/services";
import { database } from "../db/client";
import type { Bindings } from "../env";
import { recordDockerState } from "../hosts/presence";
import { KillMemory, webhookEventsFor } from "../webhooks/events";
import type { AgentAttachment } from "./attachment";
import type { WebhookQueue } from "./webhook-queue";

/**
 * Events an agent reports on its own, tied to no request: its engine's state (written to the
 * host's row) and container lifecycle from Docker (webhooks). Anything else is ignored, so an
 * older edge tolerates a newer agent's topics.
 */
export class HostEvents {
  readonly #kills = new KillMemory();

  constructor(
    private readonly env: Bindings,
    private readonly webhooks: WebhookQueue,
  ) {}

  async received(from: AgentAttachment, topic: string, data: unknown): Promise<void> {
    if (topic === DOCKER_STATE_TOPIC) {
      const docker = dockerState.safeParse(data);
      if (docker.success) await recordDockerState(database(this.env.DB), from.hostId, docker.data);
    } else if (topic === CONTAINER_EVENT_TOPIC) {
      const event = containerEvent.safeParse(data);
      if (!event.success) return;
      const killedRecently = this.#kills.note(event.data);
      const payload = { hostId: from.hostId, hostName: from.hostName, ...event.data };
      for (const type of webhookEventsFor(event.data, killedRecently)) {
        this.webhooks.emit(from.userId, type, payload);
      }
    }
  }
}
