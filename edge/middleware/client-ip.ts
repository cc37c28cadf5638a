import type { Context } from "hono";
import type { AppEnv } from "../env";
import { parseIPv4, parseIPv6 } from "../net/ip-literal";

/** The one bucket shared by every caller whose address nothing trustworthy vouches for. */
export const UNATTRIBUTED = "unattributed";

/**
 * The bucket of an address: an IPv4 address as it is, an IPv6 one by its /64 (the block one
 * subscriber is usually given, so walking through it buys no fresh buckets), an IPv4-mapped
 * one as its IPv4 address. Anything else is not an address: undefined.
 */
function addressBucket(text: string): string | undefined {
  const v4 = parseIPv4(text);
  if (v4) return v4.join(".");
  const v6 = parseIPv6(text.replace(/^\[(.*)\]$/, "$1").replace(/%.*$/, ""));
  if (!v6) return undefined;
  if (v6.subarray(0, 10).every((byte) => byte === 0) && v6[10] === 0xff && v6[11] === 0xff)
    return v6.subarray(12).join(".");
  const words = [0, 2, 4, 6].map((at) => (((v6[at] ?? 0) << 8) | (v6[at + 1] ?? 0)).toString(16));
  return `${words.join(":")}::/64`;
}

/**
 * The caller's address, for per-IP rate limits. Any client can send any header, so only one
 * that something we trust wrote counts:
 *   - `TRUSTED_CLIENT_IP_HEADER`, when the operator set it: the header their own reverse
 *     proxy writes (it must overwrite what clients send); of a list such as X-Forwarded-For,
 *     the last entry, which is the one that proxy added;
 *   - otherwise `CF-Connecting-IP` on a request that came through Cloudflare, which sets it
 *     and overwrites a client's: the request has `request.cf` and this is a production
 *     deploy. Not in development or tests: wrangler dev and workerd attach a placeholder
 *     `request.cf` to every request and pass a client's own CF-Connecting-IP through;
 *   - otherwise nobody vouches for an address, and all such callers share UNATTRIBUTED.
 */
export function clientIp(c: Context<AppEnv>): string {
  const config = c.get("config");
  const viaCloudflare = c.req.raw.cf !== undefined && config.ENVIRONMENT === "production";
  const header = config.TRUSTED_CLIENT_IP_HEADER ?? (viaCloudflare ? "CF-Connecting-IP" : undefined);
  const value = header ? c.req.header(header)?.split(",").at(-1)?.trim() : undefined;
  return (value && addressBucket(value)) || UNATTRIBUTED;
}
