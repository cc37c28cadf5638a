import type { Context } from "hono";
import type { AppEnv } from "../env";

/** The one bucket shared by every caller whose address nothing trustworthy vouches for. */
export const UNATTRIBUTED = "unattributed";

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** The eight 16-bit groups of an IPv6 address (`::` and an IPv4 tail allowed), or undefined. */
function ipv6Groups(text: string): number[] | undefined {
  let head = text;
  let tail: number[] = [];
  const v4 = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4?.[1] && v4[2]) {
    if (!IPV4.test(v4[2])) return undefined;
    const [a = 0, b = 0, c = 0, d = 0] = v4[2].split(".").map(Number);
    tail = [(a << 8) | b, (c << 8) | d];
    head = v4[1].endsWith("::") ? v4[1] : v4[1].slice(0, -1);
  }
  const halves = head.split("::");
  if (halves.length > 2) return undefined;
  const groups = (part: string | undefined) => (part ? part.split(":").map((group) => (/^[0-9a-f]{1,4}$/i.test(group) ? parseInt(group, 16) : NaN)) : []);
  const left = groups(halves[0]);
  const right = groups(halves[1]);
  const missing = 8 - tail.length - left.length - right.length;
  if ([...left, ...right].some(Number.isNaN) || (halves.length === 1 ? missing !== 0 : missing < 1)) return undefined;
  return [...left, ...new Array<number>(halves.length === 2 ? missing : 0).fill(0), ...right, ...tail];
}

/**
 * The bucket of an address: an IPv4 address as it is, an IPv6 one by its /64 (the block one
 * subscriber is usually given, so walking through it buys no fresh buckets), an IPv4-mapped
 * one as its IPv4 address. Anything else is not an address: undefined.
 */
export function addressBucket(text: string): string | undefined {
  if (IPV4.test(text)) return text;
  const groups = ipv6Groups(text.replace(/^\[(.*)\]$/, "$1").replace(/%.*$/, ""));
  if (!groups) return undefined;
  const [g0, g1, g2, g3, g4, g5, g6 = 0, g7 = 0] = groups;
  if (g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0xffff) {
    return `${g6 >> 8}.${g6 & 255}.${g7 >> 8}.${g7 & 255}`;
  }
  return `${[g0, g1, g2, g3].map((group) => (group ?? 0).toString(16)).join(":")}::/64`;
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
