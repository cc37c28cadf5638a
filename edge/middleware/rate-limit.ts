import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { KaiError } from "../../shared/errors";
import type { AppEnv } from "../env";
import type { RateDecision } from "../rate-limiter";
import { resolvePrincipal } from "./authenticate";
import { clientIp } from "./client-ip";

interface RatePolicy {
  /** Bucket family, e.g. "auth-ip" or "login-account". */
  name: string;
  limit: number;
  windowSeconds: number;
}

/** Auth routes: per client IP across all of them, and per account for each action. */
export const AUTH_PER_IP: RatePolicy = { name: "auth-ip", limit: 60, windowSeconds: 60 };
export const LOGIN_PER_ACCOUNT: RatePolicy = { name: "login-account", limit: 10, windowSeconds: 900 };
export const VERIFY_PER_ACCOUNT: RatePolicy = { name: "verify-account", limit: 10, windowSeconds: 900 };
export const REGISTER_PER_ACCOUNT: RatePolicy = { name: "register-account", limit: 5, windowSeconds: 3600 };

/** Every `/api` request, per caller (its user, or its IP when anonymous), per hour. */
const API_PER_CALLER_WINDOW_SECONDS = 3600;

const decisionsKey = new WeakMap<Context, RateDecision[]>();

/**
 * Agent tokens no host has, per client IP: a dial whose token the connect pacer does not know
 * costs a D1 read, so an IP that sent this many is refused before the read until the window
 * ends. kai-agent stops at its first 401, so only a forger or a broken script gets here.
 */
export const BAD_AGENT_TOKENS_PER_IP: RatePolicy = { name: "bad-agent-token-ip", limit: 30, windowSeconds: 600 };

const bucket = <E extends AppEnv>(c: Context<E>, policy: RatePolicy, subject: string) =>
  c.env.RATE_LIMITER.get(c.env.RATE_LIMITER.idFromName(`${policy.name}:${subject}`));

/** Counts one request against `policy` for `subject`; throws RATE_LIMITED when over. */
export async function consume<E extends AppEnv>(c: Context<E>, policy: RatePolicy, subject: string): Promise<void> {
  refuseWhenOver(c, await bucket(c, policy, subject).hit(policy.limit, policy.windowSeconds));
}

/** Throws RATE_LIMITED when `policy` is used up for `subject`, without counting this request (`countAgainst` does, later). */
export async function refuseWhenSpent<E extends AppEnv>(
  c: Context<E>,
  policy: RatePolicy,
  subject: string,
): Promise<void> {
  refuseWhenOver(c, await bucket(c, policy, subject).peek(policy.limit, policy.windowSeconds));
}

/** Counts one request against `policy` for `subject`, refusing nothing: what `refuseWhenSpent` checks. */
export async function countAgainst<E extends AppEnv>(
  c: Context<E>,
  policy: RatePolicy,
  subject: string,
): Promise<void> {
  await bucket(c, policy, subject).hit(policy.limit, policy.windowSeconds);
}

function refuseWhenOver<E extends AppEnv>(c: Context<E>, decision: RateDecision): void {
  const decisions = decisionsKey.get(c) ?? [];
  decisions.push(decision);
  decisionsKey.set(c, decisions);
  if (!decision.allowed) {
    const retryAfter = Math.max(1, decision.resetAt - Math.floor(Date.now() / 1000));
    throw new KaiError("RATE_LIMITED", `too many requests; try again in ${retryAfter} s`, {
      headers: { "Retry-After": String(retryAfter) },
      details: { retryAfterSeconds: retryAfter },
    });
  }
}

/** Writes the `X-RateLimit-*` headers of whichever bucket this request is closest to exhausting. */
export function applyRateLimitHeaders(c: Context, headers: Headers): void {
  const tightest = (decisionsKey.get(c) ?? []).reduce<RateDecision | undefined>(
    (best, decision) => (!best || decision.remaining < best.remaining ? decision : best),
    undefined,
  );
  if (!tightest) return;
  headers.set("X-RateLimit-Limit", String(tightest.limit));
  headers.set("X-RateLimit-Remaining", String(tightest.remaining));
  headers.set("X-RateLimit-Reset", String(tightest.resetAt));
}

/**
 * Limits a route per client IP. Handlers add per-account buckets with `consume`. Every
 * response of the route carries the headers: successes here, errors in `onError` (which
 * builds a fresh response after this middleware has run).
 */
export function rateLimit(policy: RatePolicy) {
  return createMiddleware<AppEnv>(async (c, next) => {
    await consume(c, policy, clientIp(c));
    await next();
    applyRateLimitHeaders(c, c.res.headers);
  });
}

/**
 * The general limit on every `/api` response, `API_RATE_LIMIT_PER_HOUR` an hour: counted per
 * user once the credentials check out (however the header is spelled, and across all of the
 * user's tokens and sessions, so minting tokens buys no quota), and per client IP for
 * anonymous calls and invalid credentials alike (a junk token is no fresh bucket). The
 * credentials are only read here: `authenticate` still refuses invalid ones with the same
 * 401 or 403. The agent's WebSocket upgrade is exempt: its 101 answer cannot carry new headers.
 */
export const apiRateLimit = createMiddleware<AppEnv>(async (c, next) => {
  if (c.req.path === "/api/agent/connect") return next();
  const principal = await resolvePrincipal(c).catch(() => undefined);
  const subject = principal ? `user:${principal.userId}` : `ip:${clientIp(c)}`;
  const limit = c.get("config").API_RATE_LIMIT_PER_HOUR;
  await consume(c, { name: "api", limit, windowSeconds: API_PER_CALLER_WINDOW_SECONDS }, subject);
  await next();
  // A WebSocket upgrade's 101 answer has immutable headers; it was counted all the same.
  if (c.res.status !== 101) applyRateLimitHeaders(c, c.res.headers);
});
