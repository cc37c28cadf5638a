import { createMiddleware } from "hono/factory";
import { KaiError } from "../../shared/errors";
import type { AppEnv } from "../env";

/**
 * How much of a refused body is read and thrown away before the 413, beyond which the rest
 * is cancelled instead. Cloudflare itself caps request bodies at 100 MB, so in production
 * this bound only matters to the local server.
 */
const DISCARD_BYTES = 64 * 1024 * 1024;

/** Reads and throws away up to DISCARD_BYTES of what is left of a body, then cancels it. */
async function discard(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
  let discarded = 0;
  try {
    while (discarded <= DISCARD_BYTES) {
      const { done, value } = await reader.read();
      if (done) return;
      discarded += value.byteLength;
    }
    await reader.cancel();
  } catch {
    // The client went away: nothing left to free.
  }
}

/**
 * Refuses a request body above `maxSize` bytes with 413 PAYLOAD_TOO_LARGE. Unlike Hono's
 * `bodyLimit`, the refused body is drained first: on the local server (wrangler's proxy in
 * front of workerd) a remainder left unread kept the upload's connection busy, and the next
 * request of any other client hung until that upload ended. Cancelling the stream did not
 * free it; reading it to the end does.
 */
export function bodyLimit(maxSize: number) {
  const tooLarge = () =>
    new KaiError("PAYLOAD_TOO_LARGE", `the request body is larger than ${maxSize} bytes; send a smaller one`);
  return createMiddleware<AppEnv>(async (c, next) => {
    const body = c.req.raw.body;
    if (!body) return next();
    const declared = c.req.header("content-length");
    if (declared !== undefined && c.req.header("transfer-encoding") === undefined) {
      if (Number(declared) > maxSize) {
        await discard(body.getReader());
        throw tooLarge();
      }
      return next();
    }
    // No length declared (chunked): count while reading, and keep what was read for the route.
    const reader = body.getReader();
    const parts: Uint8Array[] = [];
    let size = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxSize) {
        await discard(reader);
        throw tooLarge();
      }
      parts.push(value);
    }
    const whole = new Uint8Array(size);
    let at = 0;
    for (const part of parts) {
      whole.set(part, at);
      at += part.byteLength;
    }
    c.req.raw = new Request(c.req.raw, { body: whole });
    return next();
  });
}
