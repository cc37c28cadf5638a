import { messageOf } from "../../shared/errors";
import type { WebhookEvent } from "../../shared/schemas/webhooks";
import type { Bindings } from "../env";
import { emitEvent } from "../webhooks/outbox";

/**
 * The host's webhook events, emitted off the socket path: a socket hook hands an event over
 * and returns, so a burst of container events never holds up the relay behind D1 writes.
 * One chain per Durable Object (one object per host) keeps the host's events in the order
 * they happened; `waitUntil` keeps the object alive until the chain has drained.
 */
export class WebhookQueue {
  #tail: Promise<void> = Promise.resolve();

  constructor(
    private readonly ctx: DurableObjectState,
    private readonly env: Bindings,
  ) {}

  emit(userId: string, type: WebhookEvent, data: Record<string, unknown>): void {
    this.#tail = this.#tail.then(async () => {
      try {
        await emitEvent(this.env, userId, type, data);
      } catch (error) {
        const hostId = typeof data.hostId === "string" ? data.hostId : "?";
        const why = messageOf(error);
        console.error(`host ${hostId}: queueing the ${type} webhook failed (${why})`);
      }
    });
    this.ctx.waitUntil(this.#tail);
  }
}
