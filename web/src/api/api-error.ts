import type { ErrorCode } from "../../../shared/errors";

/**
 * A failed API call, whichever surface answered it: the Kai envelope (`/api/...`:
 * `{success: false, error: {code, message}}`), RFC 7807 (`/api/v1/...`: `{code, detail}`), or
 * no answer at all (`NETWORK_ERROR`). `ErrorView` renders it.
 */
export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly status: number,
    /** The Worker's `X-Request-Id`, for a bug report; null when no answer came. */
    readonly requestId: string | null,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

type Body = { code?: unknown; detail?: unknown; error?: { code?: unknown; message?: unknown } } | undefined;

/** The ApiError of a non-2xx `response` whose parsed JSON body is `body` (anything). */
export function apiErrorOf(response: Response, body: unknown): ApiError {
  const parsed = (typeof body === "object" && body !== null ? body : undefined) as Body;
  const code = parsed?.error?.code ?? parsed?.code;
  const message = parsed?.error?.message ?? parsed?.detail;
  return new ApiError(
    (typeof code === "string" ? code : "INTERNAL_ERROR") as ErrorCode,
    typeof message === "string" ? message : `${response.status} ${response.statusText}`,
    response.status,
    response.headers.get("X-Request-Id"),
  );
}

/** Any thrown value as an ApiError: a fetch that never got an answer is a NETWORK_ERROR. */
export function asApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new ApiError("NETWORK_ERROR", `Kai did not answer: ${message}`, 0, null);
}
