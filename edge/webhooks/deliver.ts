import { messageOf } from "../../shared/errors";
import type { Config } from "../config";
import type { webhookDeliveries, webhooks } from "../db/schema";
import { decryptSecret } from "./secrets";
import { signatureHeaders } from "./signing";
import { checkTarget } from "./targets";

const DELIVERY_TIMEOUT_MS = 10_000;
const EXCERPT_CHARS = 500;

export interface AttemptResult {
  ok: boolean;
  status: number | null;
  durationMs: number;
  responseExcerpt: string | null;
  error: string | null;
  /** The endpoint answered 410 Gone: it asked never to be called again. */
  gone: boolean;
  /** Retrying cannot help (the target is refused by policy). */
  permanent: boolean;
}

/**
 * One signed POST of a delivery: a 10-second limit, redirects not followed (a 3xx is a
 * failure: following it could lead anywhere), the target re-checked at send time (a webhook
 * stored before a rule tightened is refused too). Never throws: every way it can go wrong is
 * an attempt that failed, with its reason.
 */
export async function attemptDelivery(
  config: Config,
  endpoint: typeof webhooks.$inferSelect,
  delivery: typeof webhookDeliveries.$inferSelect,
): Promise<AttemptResult> {
  const started = Date.now();
  const result = (partial: Partial<AttemptResult>): AttemptResult => ({
    ok: false,
    status: null,
    responseExcerpt: null,
    error: null,
    gone: false,
    permanent: false,
    ...partial,
    durationMs: Date.now() - started,
  });
  try {
    checkTarget(endpoint.url, config.WEBHOOKS_ALLOW_PRIVATE);
  } catch (error) {
    return result({ error: error instanceof Error ? error.message : "target refused", permanent: true });
  }
  let headers: Record<string, string>;
  try {
    const secret = await decryptSecret(config.PASSWORD_PEPPER, endpoint.secretCiphertext);
    headers = await signatureHeaders(secret, delivery.id, Math.floor(Date.now() / 1000), delivery.payload);
  } catch (error) {
    // An unreadable or undecodable secret does not heal by waiting: fail this delivery, say why.
    return result({
      error: `could not sign: ${messageOf(error)}`,
      permanent: true,
    });
  }
  try {
    const response = await fetch(endpoint.url, {
      method: "POST",
      headers: { ...headers, "content-type": "application/json", "user-agent": "Kai-Webhooks/1.0" },
      body: delivery.payload,
      redirect: "manual",
      signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
    });
    const excerpt = (await response.text().catch(() => "")).slice(0, EXCERPT_CHARS);
    if (response.status >= 300 && response.status < 400) {
      return result({
        status: response.status,
        responseExcerpt: excerpt,
        error: "redirects are not followed; point the webhook at the final URL",
      });
    }
    return result({
      ok: response.ok,
      status: response.status,
      responseExcerpt: excerpt,
      gone: response.status === 410,
    });
  } catch (error) {
    const timedOut = error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
    return result({
      error: timedOut ? `no answer within ${DELIVERY_TIMEOUT_MS / 1000} s` : `could not connect: ${messageOf(error)}`,
    });
  }
}

export const MAX_ATTEMPTS = 8;
const MAX_DELAY_MS = 6 * 3_600_000;

/** Exponential backoff with jitter: base, 2×base, 4×base … each drawn from its upper half, capped at 6 h. */
export function retryDelayMs(baseMs: number, attemptsSoFar: number, random: () => number = Math.random): number {
  const step = Math.min(MAX_DELAY_MS, baseMs * 2 ** Math.max(0, attemptsSoFar - 1));
  return Math.round(step / 2 + random() * (step / 2));
}
