import { applyD1Migrations, env } from "cloudflare:test";

// The same migration files drizzle-kit wrote, applied exactly as deploy applies them.
await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
