import { app } from "./app";
import type { Bindings } from "./env";

export { RateLimiter } from "./rate-limiter";

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Bindings>;
