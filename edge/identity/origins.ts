import type { Context } from "hono";
import type { AppEnv } from "../env";

/** Kai's own origins: the one serving this request, the configured public one, and extras. */
export function isAllowedOrigin(c: Context<AppEnv>, origin: string | undefined): boolean {
  if (!origin) return false;
  const config = c.get("config");
  const allowed = new Set([new URL(c.req.url).origin, ...config.ALLOWED_ORIGINS]);
  if (config.PUBLIC_ORIGIN) allowed.add(new URL(config.PUBLIC_ORIGIN).origin);
  return allowed.has(origin);
}
