import { KaiError } from "../../shared/errors";

/**
 * Webhook targets must be public: a URL naming loopback, a private or link-local network,
 * or an internal name would let anyone make the edge probe places it should not reach.
 * A development setting (WEBHOOKS_ALLOW_PRIVATE) lifts this for local receivers.
 */
const PRIVATE_V4 = [
  [0x00000000, 8], // 0.0.0.0/8
  [0x0a000000, 8], // 10/8
  [0x64400000, 10], // 100.64/10 carrier-grade NAT
  [0x7f000000, 8], // 127/8 loopback
  [0xa9fe0000, 16], // 169.254/16 link-local (cloud metadata)
  [0xac100000, 12], // 172.16/12
  [0xc0a80000, 16], // 192.168/16
  [0xe0000000, 3], // multicast and reserved
] as const;

function ipv4(host: string): number | undefined {
  const parts = host.split(".");
  if (parts.length !== 4 || parts.some((part) => !/^\d{1,3}$/.test(part) || Number(part) > 255)) return undefined;
  return parts.reduce((value, part) => value * 256 + Number(part), 0);
}

export function isPrivateHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[|\]$/g, "");
  if (host === "localhost" || host.endsWith(".localhost") || host.endsWith(".local") || host.endsWith(".internal")) return true;
  const v4 = ipv4(host);
  if (v4 !== undefined) return PRIVATE_V4.some(([base, bits]) => v4 >>> (32 - bits) === base >>> (32 - bits));
  if (host.includes(":")) {
    // IPv6: loopback, unspecified, unique-local fc00::/7, link-local fe80::/10, and v4-mapped forms.
    if (host === "::1" || host === "::") return true;
    if (/^f[cd]/.test(host) || /^fe[89ab]/.test(host)) return true;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(host);
    if (mapped?.[1]) return isPrivateHost(mapped[1]);
  }
  return false;
}

export function checkTarget(url: string, allowPrivate: boolean): void {
  const parsed = new URL(url);
  if (parsed.username || parsed.password) throw new KaiError("VALIDATION_ERROR", "invalid request: the webhook URL must not carry credentials");
  if (!allowPrivate && isPrivateHost(parsed.hostname)) {
    throw new KaiError("VALIDATION_ERROR", "invalid request: webhook URLs must be public; loopback and private networks are refused", {
      details: { fields: { url: ["must be a public address"] } },
    });
  }
}
