import { app } from "./app";
import type { Bindings } from "./env";

export { HostSession } from "./host-session/host-session";
export { RateLimiter } from "./rate-limiter";
export { WebhookDispatcher } from "./webhooks/dispatcher";

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Bindings>;
