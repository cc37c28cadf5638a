import { createMiddleware } from "hono/factory";
import { KaiError } from "../../shared/errors";
import type { AppEnv } from "../env";
import { isAllowedOrigin } from "../identity/origins";

/**
 * For the routes that set or clear the session cookie without needing one (sign-in, the
 * code that finishes a registration, sign-out): a page on another site could otherwise post
 * its own credentials and leave the visitor signed in to the attacker's account (login CSRF),
 * where anything they then enroll or upload lands. Browsers always send `Origin` on such a
 * cross-site POST; clients that send none (curl, the CLI, scripts) are not browsers and pass.
 */
export const refuseCrossSite = createMiddleware<AppEnv>(async (c, next) => {
  const origin = c.req.header("Origin");
  if (origin !== undefined && !isAllowedOrigin(c, origin)) {
    throw new KaiError("PERMISSION_DENIED", "signing in or out from another site is refused; use Kai's own page");
  }
  return next();
});
