import type { IncomingMessage } from "node:http";
import { installLine } from "../../shared/install-line";
import { CLOSE_CODES } from "../../shared/protocol";
import type { Logger } from "../log";

/**
 * How a connection ended; `retryAfterMs` when the edge asked the agent to wait (429/503 with
 * Retry-After); `waitMs` when the wait is decided already (replaced) and wins over the backoff.
 */
export type Ending = { final: false; retryAfterMs?: number; waitMs?: number } | { final: true; reason: string };

/**
 * Close codes after which reconnecting cannot help, and what to tell the operator. The edge's
 * own reason comes first where it says more (which protocols it speaks).
 */
const FINAL_CLOSES = new Map<number, (reason: string, server: string) => string>([
  [CLOSE_CODES.TOKEN_REVOKED, () => "this host was deleted or its token revoked; enroll it again"],
  [
    CLOSE_CODES.VERSION_UNSUPPORTED,
    (reason, server) =>
      `the edge no longer speaks this agent's protocol (${reason || "no reason given"}); ` +
      `run kai-agent upgrade, or install again: ${installLine(new URL(server).origin)}`,
  ],
]);

/**
 * After REPLACED (another agent with this host's token took over) the agent waits this long,
 * plus up to REPLACED_JITTER_MS, and dials again. Not final: a stray or failed dial must not
 * take the host offline for good. Not the normal backoff either: two agents sharing one token
 * would then evict each other every few seconds (a flapping host and a webhook storm); a
 * minute-scale wait leaves the newer one in place and the log says what to do.
 */
export const REPLACED_RETRY_MS = 60_000;
export const REPLACED_JITTER_MS = 60_000;

/**
 * The edge answered the upgrade with an HTTP status instead: 401/403 mean the token is no
 * good (final); a Retry-After (429/503) says how long to wait; anything else is retried.
 */
export function refusalEnding(response: IncomingMessage, log: Logger): Ending | undefined {
  const status = response.statusCode ?? 0;
  if (status === 401 || status === 403) {
    log("error", "refused: the agent token is invalid or revoked; enroll the host again", { status });
    return { final: true, reason: "token refused" };
  }
  const seconds = Number(response.headers["retry-after"]);
  const refused: Ending | undefined =
    Number.isFinite(seconds) && seconds > 0 ? { final: false, retryAfterMs: Math.min(seconds, 300) * 1000 } : undefined;
  log("warn", "the edge refused the connection", { status, ...(refused ? { retry_after_s: seconds } : {}) });
  return refused;
}

/**
 * What a close code means for the reconnect loop, logged in words an operator can act on;
 * `server` is the edge's URL as configured, for the install line.
 */
export function closeEnding(code: number, reason: string, server: string, log: Logger, random: () => number): Ending {
  const explain = FINAL_CLOSES.get(code);
  if (explain) {
    const final = explain(reason, server);
    log("error", `disconnected for good: ${final}`, { code, reason });
    return { final: true, reason: final };
  }
  if (code === CLOSE_CODES.REPLACED) {
    const waitMs = REPLACED_RETRY_MS + Math.round(random() * REPLACED_JITTER_MS);
    log(
      "warn",
      `another kai-agent with this host's token took over; retrying in ${Math.round(waitMs / 1000)} s — stop the other one or enroll this machine separately`,
      { code, reason },
    );
    return { final: false, waitMs };
  }
  log("warn", "disconnected", { code, reason });
  return { final: false };
}
