import type { Context } from "hono";
import { z } from "zod";
import { type ApiSurface, ERROR_TITLES, type KaiError, statusOf } from "../../shared/errors";

/** `/api/v1/...` speaks RFC 7807; everything else under `/api` speaks the Kai envelope. */
export function surfaceOf(path: string): ApiSurface {
  return path === "/api/v1" || path.startsWith("/api/v1/") || path === "/health" ? "problem" : "envelope";
}

/** A successful Kai envelope. */
export function ok<T, S extends 200 | 201 | 202 = 200>(c: Context, data: T, message: string, status?: S) {
  return c.json({ success: true as const, data, message, timestamp: new Date().toISOString() }, (status ?? 200) as S);
}

/** Builds the error response of either surface from one KaiError. Never includes a stack. */
export function errorResponse(error: KaiError, surface: ApiSurface, instance: string): Response {
  const status = statusOf(error.code, surface);
  const headers = new Headers(error.headers);
  if (surface === "problem") {
    headers.set("content-type", "application/problem+json");
    const body = {
      type: "about:blank",
      title: ERROR_TITLES[error.code],
      status,
      detail: error.message,
      instance,
      code: error.code,
      ...(error.details ? { errors: error.details } : {}),
    };
    return new Response(JSON.stringify(body), { status, headers });
  }
  headers.set("content-type", "application/json");
  const body = {
    success: false,
    error: { code: error.code, message: error.message, details: error.details ?? {} },
    timestamp: new Date().toISOString(),
  };
  return new Response(JSON.stringify(body), { status, headers });
}

/** OpenAPI shape of a Kai envelope around `data`. */
export function envelopeOf<T extends z.ZodType>(data: T) {
  return z.object({
    success: z.literal(true),
    data,
    message: z.string(),
    timestamp: z.string(),
  });
}

export const envelopeError = z
  .object({
    success: z.literal(false),
    error: z.object({ code: z.string(), message: z.string(), details: z.record(z.string(), z.unknown()) }),
    timestamp: z.string(),
  })
  .meta({ id: "EnvelopeError" });

export const problem = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    instance: z.string(),
    code: z.string(),
    errors: z.record(z.string(), z.unknown()).optional(),
  })
  .meta({ id: "Problem" });
