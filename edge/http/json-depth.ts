import { createMiddleware } from "hono/factory";
import { KaiError } from "../../shared/errors";
import type { AppEnv } from "../env";

/** How deep a JSON request body may nest objects and arrays. Kai's own bodies need a handful. */
export const MAX_JSON_DEPTH = 64;

/** Media types parsed as JSON: the same test Hono's validator applies (`application/json`, `application/*+json`). */
const JSON_TYPE = /^application\/([\w.-]+\+)?json$/i;

/**
 * The deepest nesting of `{`/`[` in a JSON text, counted in one pass without recursion (and
 * so without a stack to overflow), skipping brackets inside strings. Stops counting once
 * past `limit`. Malformed text is not judged here; the parser that follows reports it.
 */
export function jsonNesting(text: string, limit = Number.POSITIVE_INFINITY): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const char = text.charCodeAt(i);
    if (inString) {
      if (char === 0x5c) i++; // a backslash escapes the next character
      else if (char === 0x22) inString = false;
    } else if (char === 0x22) inString = true;
    else if (char === 0x7b || char === 0x5b) {
      depth++;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > limit) return deepest;
      }
    } else if (char === 0x7d || char === 0x5d) depth--;
  }
  return deepest;
}

/**
 * Refuses a JSON body nested deeper than MAX_JSON_DEPTH with VALIDATION_ERROR (422 on
 * `/api/v1`, 400 on `/api`). Mounted once for all of `/api`, so every JSON body is checked
 * whoever parses it afterwards: a body 20,000 deep parsed fine, but overflowed the stack
 * when the relay handed it to the host's Durable Object (RPC serialisation is recursive).
 * The text read here is the one Hono caches, so `c.req.json()` and the OpenAPI validator
 * parse the same bytes afterwards.
 */
export const jsonDepthLimit = createMiddleware<AppEnv>(async (c, next) => {
  const type = (c.req.header("content-type") ?? "").split(";")[0]?.trim() ?? "";
  if (!c.req.raw.body || !JSON_TYPE.test(type)) return next();
  const text = await c.req.text().catch(() => {
    throw new KaiError("BAD_REQUEST", "the request body could not be read; send it again");
  });
  if (jsonNesting(text, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
    throw new KaiError("VALIDATION_ERROR", `invalid request: the JSON body is nested deeper than ${MAX_JSON_DEPTH} levels; flatten it`, {
      details: { fields: { body: [`nested deeper than ${MAX_JSON_DEPTH} levels`] } },
    });
  }
  return next();
});
