import type { components } from "../../api/schema";

/** An event a webhook can subscribe to, as the API's OpenAPI declares it. */
export type WebhookEvent = components["schemas"]["CreateWebhook"]["events"][number];

type Groups = readonly { label: string; events: readonly WebhookEvent[] }[];
type Missing<G extends Groups> = Exclude<WebhookEvent, G[number]["events"][number]>;

/** `groups` as given; fails to compile, naming the event, when one of the API's events is not in them. */
const everyEvent = <const G extends Groups>(
  groups: G & ([Missing<G>] extends [never] ? unknown : { missing: Missing<G> }),
) => groups;

/**
 * Every event, grouped for the form's checkboxes. web/ may not import values from shared/, so the
 * names are listed here, and `everyEvent` makes a new server-side event a compile error.
 */
export const WEBHOOK_EVENT_GROUPS = everyEvent([
  { label: "Services", events: ["service:start", "service:stop", "service:error"] },
  {
    label: "Containers",
    events: [
      "container.created",
      "container.started",
      "container.stopped",
      "container.restarted",
      "container.deleted",
      "container.died",
    ],
  },
  { label: "Machines", events: ["host.online", "host.offline"] },
  {
    label: "Agent sessions",
    events: [
      "session.started",
      "session.approval_requested",
      "session.turn_completed",
      "session.ended",
      "session.failed",
    ],
  },
]);
