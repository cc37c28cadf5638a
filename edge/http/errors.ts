import type { Context, ErrorHandler, NotFoundHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { z } from "zod";
import { type ErrorCode, KaiError } from "../../shared/errors";
import type { AppEnv } from "../env";
import { applyRateLimitHeaders } from "../middleware/rate-limit";
import { errorResponse, surfaceOf } from "./respond";

/** Statuses Hono and its middleware raise themselves, mapped onto Kai's codes. */
const HTTP_EXCEPTION_CODES: Record<number, ErrorCode> = {
  400: "BAD_REQUEST",
  401: "UNAUTHORIZED",
  403: "PERMISSION_DENIED",
  404: "NOT_FOUND",
  405: "METHOD_NOT_ALLOWED",
  413: "PAYLOAD_TOO_LARGE",
  415: "UNSUPPORTED_MEDIA_TYPE",
  429: "RATE_LIMITED",
};

function toKaiError(error: unknown): KaiError {
  if (error instanceof KaiError) return error;
  if (error instanceof HTTPException) {
    const code = HTTP_EXCEPTION_CODES[error.status];
    if (code) {
      const message =
        code === "UNSUPPORTED_MEDIA_TYPE"
          ? "send the body as application/json"
          : code === "PAYLOAD_TOO_LARGE"
            ? "the request body is too large"
            : error.message || code.toLowerCase();
      return new KaiError(code, message);
    }
  }
  return new KaiError("INTERNAL_ERROR", "an unexpected error occurred");
}

/** The single HTTP error boundary: every thrown thing becomes a documented error. */
export const onError: ErrorHandler<AppEnv> = (error, c) => {
  const kaiError = toKaiError(error);
  if (kaiError.code === "INTERNAL_ERROR") {
    // The stack goes to the log only; the client gets the code and a generic message.
    console.error(`kai: ${c.req.method} ${c.req.path} failed:`, error);
  }
  const response = errorResponse(kaiError, surfaceOf(c.req.path), c.req.path);
  applyRateLimitHeaders(c, response.headers);
  return response;
};

export const onNotFound: NotFoundHandler<AppEnv> = (c) =>
  errorResponse(
    new KaiError("NOT_FOUND", `no route for ${c.req.method} ${c.req.path}`),
    surfaceOf(c.req.path),
    c.req.path,
  );

export function methodNotAllowedResponse(c: Context<AppEnv>, allowed: string[]): Response {
  const error = new KaiError("METHOD_NOT_ALLOWED", `${c.req.method} is not allowed here; use ${allowed.join(", ")}`, {
    headers: { Allow: allowed.join(", ") },
  });
  return errorResponse(error, surfaceOf(c.req.path), c.req.path);
}

/**
 * Field → messages of a failed parse, keyed by each issue's dotted path (`ports.0.host`), or
 * by `target` for the input as a whole. Not `z.flattenError`: it keys by the first path
 * segment only, so nested fields would lose the documented `ports.0.host` form.
 */
function fieldsOf(error: z.ZodError, target: string): Record<string, string[]> {
  const fields: Record<string, string[]> = {};
  for (const issue of error.issues) {
    const key = issue.path.length ? issue.path.join(".") : target;
    (fields[key] ??= []).push(issue.message);
  }
  return fields;
}

/** VALIDATION_ERROR with one message per field, in whichever surface format the request speaks. */
export function throwValidationProblem(error: z.ZodError, target = "body"): never {
  const fields = fieldsOf(error, target);
  const summary = Object.entries(fields)
    .map(([field, messages]) => `${field}: ${messages.join(", ")}`)
    .join("; ");
  throw new KaiError("VALIDATION_ERROR", `invalid request: ${summary}`, { details: { fields } });
}

/** Parses input a route reads itself (a form field, a path spanning slashes) like the declared validators do. */
export function parseOrThrow<T extends z.ZodType>(schema: T, value: unknown, target = "body"): z.infer<T> {
  const result = schema.safeParse(value);
  if (!result.success) throwValidationProblem(result.error, target);
  return result.data;
}

/** The validation hook of every route group: a failed zod parse becomes VALIDATION_ERROR. */
export function validationHook(
  result: { success: true } | { success: false; error: z.ZodError; target?: string },
): void {
  if (!result.success) throwValidationProblem(result.error, result.target ?? "body");
}
