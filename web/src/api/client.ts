import createClient from "openapi-fetch";
import { apiErrorOf, asApiError } from "./api-error";
import type { paths } from "./schema";

/**
 * The typed HTTP client: every path, parameter and body comes from web/src/api/schema.d.ts
 * (`npm run types:web`). Same origin, signed in by the `__Host-kai_session` cookie.
 *
 *   const hosts = await call(api.GET("/api/hosts"));
 */
export const api = createClient<paths>({ baseUrl: location.origin, credentials: "same-origin" });

type Answer<T> = { data?: T; error?: unknown; response: Response };

/** The data of a successful answer; any failure (an error status, no answer) throws an ApiError. */
export async function call<T>(pending: Promise<Answer<T>>): Promise<T> {
  let answer: Answer<T>;
  try {
    answer = await pending;
  } catch (error) {
    throw asApiError(error);
  }
  if (!answer.response.ok) throw apiErrorOf(answer.response, answer.error);
  return answer.data as T;
}
