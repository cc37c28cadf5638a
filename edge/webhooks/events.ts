import type { ContainerEvent } from "../../shared/schemas/services";
import type { WebhookEvent } from "../../shared/schemas/webhooks";

/** A `die` this soon after a `kill` was asked for (docker stop, docker kill), not a crash. */
const REQUESTED_DEATH_WINDOW_MS = 30_000;

/**
 * The webhook events one Docker container event stands for. `container.*` events concern
 * Kai-managed containers (the Flexy API's scope); `service:*` events concern every
 * container of the host (the services API's scope). `service:error` is a crash: a non-zero
 * exit nobody asked for, or the kernel's OOM killer.
 */
export function webhookEventsFor(event: ContainerEvent, killedRecently: boolean): WebhookEvent[] {
  const managed = (type: WebhookEvent): WebhookEvent[] => (event.managed ? [type] : []);
  switch (event.action) {
    case "create":
      return managed("container.created");
    case "start":
      return [...managed("container.started"), "service:start"];
    case "stop":
      return [...managed("container.stopped"), "service:stop"];
    case "restart":
      return managed("container.restarted");
    case "die":
      return [...managed("container.died"), ...(event.exitCode && !killedRecently ? (["service:error"] as const) : [])];
    case "destroy":
      return managed("container.deleted");
    case "oom":
      return ["service:error"];
    default:
      return [];
  }
}

/** Remembers recent `kill` events per container, to tell a requested death from a crash. */
export class KillMemory {
  readonly #kills = new Map<string, number>();

  note(event: ContainerEvent, now = Date.now()): boolean {
    for (const [id, at] of this.#kills) if (now - at > REQUESTED_DEATH_WINDOW_MS) this.#kills.delete(id);
    if (event.action === "kill") this.#kills.set(event.containerId, now);
    return this.#kills.has(event.containerId);
  }
}
