import { createMiddleware } from "hono/factory";
import { KaiError } from "../../shared/errors";
import { jsonNesting, MAX_JSON_DEPTH } from "../../shared/json-depth";
import type { AppEnv } from "../env";

/** Media types parsed as JSON: the same test Hono's validator applies (`application/json`, `application/*+json`). */
const JSON_TYPE = /^application\/([\w.-]+\+)?json$/i;

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
    throw new KaiError(
      "VALIDATION_ERROR",
      `invalid request: the JSON body is nested deeper than ${MAX_JSON_DEPTH} levels; flatten it`,
      {
        details: { fields: { body: [`nested deeper than ${MAX_JSON_DEPTH} levels`] } },
      },
    );
  }
  return next();
});
