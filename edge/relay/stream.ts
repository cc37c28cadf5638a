import type { Context } from "hono";
import { COMMANDS, type ParamsOf } from "../../shared/commands";
import { KaiError, type WireError } from "../../shared/errors";
import type { AppEnv } from "../env";
import { recordAudit } from "./relay";

/**
 * Follows a service's log through the relay as server-sent events: `log` events carry one
 * line each, then `end` (or `error`) closes the stream. Refusals before the stream starts
 * (host offline, invalid params) are ordinary HTTP errors.
 */
export async function streamLogs(c: Context<AppEnv>, params: ParamsOf<"service.logs.follow">): Promise<Response> {
  const checked = COMMANDS["service.logs.follow"].params.safeParse(params);
  if (!checked.success) throw new KaiError("VALIDATION_ERROR", `invalid parameters: ${checked.error.message}`);
  const stub = c.env.HOST_SESSION.get(c.env.HOST_SESSION.idFromName(c.get("host").id));
  const requestId = crypto.randomUUID();
  const at = Date.now();
  // Workers' RPC types cannot express the union; its shape is the Durable Object's `stream`.
  const started = (await stub.stream(requestId, "service.logs.follow", checked.data)) as
    | { ok: true; body: ReadableStream<Uint8Array> }
    | { ok: false; error: WireError };
  // Audited when the stream opens: how long a viewer keeps following is not a command's duration.
  recordAudit(c, { op: "service.logs.follow", requestId, outcome: started.ok ? "ok" : started.error.code, durationMs: Date.now() - at });
  if (!started.ok) throw new KaiError(started.error.code, started.error.message);
  return new Response(started.body, {
    headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", "x-accel-buffering": "no" },
  });
}
