import { app } from "./app";
import type { Bindings } from "./env";

export { HostRelay } from "./host-relay/host-relay";
export { RateLimiter } from "./rate-limiter";
export { UserFeed } from "./user-feed/user-feed";
export { WebhookDispatcher } from "./webhooks/dispatcher";

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Bindings>;
