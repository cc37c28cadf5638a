import { envelopeError, problem } from "./respond";

const DESCRIPTIONS: Record<number, string> = {
  400: "Malformed request",
  401: "Not signed in, or the token is invalid",
  403: "Not allowed",
  404: "Not found",
  409: "Conflict",
  413: "Body too large",
  415: "Body is not JSON",
  422: "Invalid parameters",
  429: "Too many requests; see Retry-After",
  503: "Unavailable",
};

/** OpenAPI entries for the documented RFC 7807 errors of a `/api/v1` route. */
export function problems(...statuses: number[]) {
  return Object.fromEntries(
    statuses.map((status) => [
      status,
      { description: DESCRIPTIONS[status] ?? "Error", content: { "application/problem+json": { schema: problem } } },
    ]),
  );
}

/** OpenAPI entries for the documented envelope errors of an `/api` route. */
export function envelopeErrors(...statuses: number[]) {
  return Object.fromEntries(
    statuses.map((status) => [
      status,
      { description: DESCRIPTIONS[status] ?? "Error", content: { "application/json": { schema: envelopeError } } },
    ]),
  );
}

/** A required JSON request body for `createRoute`. */
export function jsonBody<T>(schema: T) {
  return { content: { "application/json": { schema } }, required: true };
}
