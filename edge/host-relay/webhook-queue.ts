import type { WebhookEvent } from "../../shared/schemas/webhooks";
import type { Bindings } from "../env";
import { emitEvent } from "../webhooks/outbox";
import type { OrderedWork } from "./ordered-work";

/** Told of every webhook event the host emits (its owner's live feed takes some of them). */
export type WebhookTap = (userId: string, type: WebhookEvent, data: Record<string, unknown>) => void;

/**
 * The host's webhook events, emitted off the socket path: a socket hook hands an event over
 * and returns, so a burst of container events never holds up the relay behind D1 writes.
 * They share the host's ordered work with its other D1 writes, so a webhook never overtakes
 * the state change it reports.
 */
export class WebhookQueue {
  constructor(
    private readonly work: OrderedWork,
    private readonly env: Bindings,
    private readonly tap?: WebhookTap,
  ) {}

  emit(userId: string, type: WebhookEvent, data: Record<string, unknown>): void {
    this.work.add(`queueing the ${type} webhook`, () => emitEvent(this.env, userId, type, data));
    this.tap?.(userId, type, data);
  }
}
