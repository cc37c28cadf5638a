import { z } from "zod";

/**
 * The closed set of error codes Kai answers with. The same code travels from the agent
 * through the Durable Object to the HTTP client, so a client can branch on it whatever
 * layer failed. The first six are the Kai API's documented codes; the rest are Kai's own.
 */
export const ERROR_CODES = [
  "CONTAINER_NOT_FOUND",
  "DOCKER_ERROR",
  "PERMISSION_DENIED",
  "VALIDATION_ERROR",
  "NETWORK_ERROR",
  "INTERNAL_ERROR",
  "BAD_REQUEST",
  "UNAUTHORIZED",
  "NOT_FOUND",
  "METHOD_NOT_ALLOWED",
  "CONFLICT",
  "PAYLOAD_TOO_LARGE",
  "UNSUPPORTED_MEDIA_TYPE",
  "RATE_LIMITED",
  "SERVICE_UNAVAILABLE",
  "AGENT_OFFLINE",
  "AGENT_TIMEOUT",
  "CANCELLED",
  "AGENT_PROCESS_FAILED",
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];
const errorCodeSchema = z.enum(ERROR_CODES);

/**
 * HTTP status for each code. `satisfies Record<ErrorCode, …>` makes the map exhaustive:
 * adding a code without a status is a compile error.
 */
export const ERROR_STATUS = {
  CONTAINER_NOT_FOUND: 404,
  DOCKER_ERROR: 502,
  PERMISSION_DENIED: 403,
  VALIDATION_ERROR: 400,
  NETWORK_ERROR: 502,
  INTERNAL_ERROR: 500,
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  SERVICE_UNAVAILABLE: 503,
  AGENT_OFFLINE: 503,
  AGENT_TIMEOUT: 504,
  /**
   * The edge cancelled the request (its viewer left, its credential was revoked). The answer to
   * a cancelled request is not sent, so no HTTP client sees this status; no documented status
   * fits, and 499 is the common one for "the client closed the request" (nginx, gRPC's mapping).
   */
  CANCELLED: 499,
  /** An agent session's process (Claude Code, Codex, ...) is missing, crashed or broke ACP. */
  AGENT_PROCESS_FAILED: 502,
} as const satisfies Record<ErrorCode, number>;

/** The two response conventions: the Kai envelope (`/api/...`) and RFC 7807 (`/api/v1/...`). */
export type ApiSurface = "envelope" | "problem";

/**
 * The Runtime API (`/api/v1`) documents validation failures as 422; the Kai API uses 400.
 * This is the only place where the surfaces differ.
 */
export function statusOf(code: ErrorCode, surface: ApiSurface): number {
  if (surface === "problem" && code === "VALIDATION_ERROR") return 422;
  return ERROR_STATUS[code];
}

/** Short human titles, used as the RFC 7807 `title`. */
export const ERROR_TITLES: Record<ErrorCode, string> = {
  CONTAINER_NOT_FOUND: "Container not found",
  DOCKER_ERROR: "Docker engine error",
  PERMISSION_DENIED: "Permission denied",
  VALIDATION_ERROR: "Validation failed",
  NETWORK_ERROR: "Network error",
  INTERNAL_ERROR: "Internal error",
  BAD_REQUEST: "Bad request",
  UNAUTHORIZED: "Unauthorized",
  NOT_FOUND: "Not found",
  METHOD_NOT_ALLOWED: "Method not allowed",
  CONFLICT: "Conflict",
  PAYLOAD_TOO_LARGE: "Payload too large",
  UNSUPPORTED_MEDIA_TYPE: "Unsupported media type",
  RATE_LIMITED: "Too many requests",
  SERVICE_UNAVAILABLE: "Service unavailable",
  AGENT_OFFLINE: "Host agent offline",
  AGENT_TIMEOUT: "Host agent timed out",
  CANCELLED: "Request cancelled",
  AGENT_PROCESS_FAILED: "Agent process failed",
};

/**
 * The one exception type of Kai. Thrown anywhere, caught at exactly two boundaries:
 * the HTTP error handler and the agent's RPC reply path. `details` must be JSON-safe and
 * must never carry a stack trace or secret.
 */
export class KaiError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;
  readonly headers: Record<string, string> | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: { details?: Record<string, unknown>; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.name = "KaiError";
    this.code = code;
    this.details = options.details;
    this.headers = options.headers;
  }
}

/** The error object as it travels on the wire and in the Kai envelope. */
export const wireErrorSchema = z.object({
  code: errorCodeSchema,
  message: z.string(),
  details: z.record(z.string(), z.unknown()).optional(),
});
export type WireError = z.infer<typeof wireErrorSchema>;

/** What went wrong, in one line, for a log or an error message: a thrown value need not be an Error. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
