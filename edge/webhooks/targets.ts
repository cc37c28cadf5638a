import { KaiError } from "../../shared/errors";
import { parseIPv4, parseIPv6 } from "../net/ip-literal";
import { specialIPv4, specialIPv6 } from "./address";

/**
 * Webhook targets must be public: a URL naming loopback, a private or link-local network,
 * or an internal name would let anyone make the edge probe places it should not reach (and
 * read the answer back in the delivery log). A development setting (WEBHOOKS_ALLOW_PRIVATE)
 * lifts this for local receivers. Checked at registration and again before every attempt.
 */

/**
 * Names that never name a public host: special-use (RFC 6761, 6762, 8375, ICANN's .internal),
 * never delegated (ICANN's .home, .corp, .mail), and the usual private suffixes of LANs and
 * clusters (.lan, .intranet, .localdomain, .svc). Refusing them costs a public target nothing.
 */
const INTERNAL_SUFFIXES = [
  "localhost",
  "local",
  "internal",
  "arpa",
  "localdomain",
  "test",
  "invalid",
  "example",
  "home",
  "corp",
  "mail",
  "lan",
  "intranet",
  "svc",
];

/**
 * Why a host is not a public target, or undefined when it is. `hostname` is what the URL
 * parser made of it (`new URL(...).hostname`): IPv4 in any accepted spelling (`0x7f.1`,
 * `2130706433`, `127.1`) is already a dotted quad, IPv6 is bracketed hex. Other spellings
 * are run through the same parser first, so every caller judges the same bytes.
 */
export function privateReason(hostname: string): string | undefined {
  const bare = hostname.replace(/^\[|\]$/g, "");
  // A bare host only: anything that would end it early (path, query, user info) is not one.
  if (/[/?#@\\\s]/.test(bare)) return "not a valid host name";
  const host = normalised(bare.includes(":") ? `[${bare}]` : bare);
  if (host === undefined) return "not a valid host name";
  if (host.startsWith("[")) {
    const v6 = parseIPv6(host.slice(1, -1));
    return v6 ? specialIPv6(v6) : "not a valid IPv6 address";
  }
  // `localhost.` and `metadata.google.internal.` are the same names as without the dot, and
  // `0x7f.1..` is an address once the dots are gone: judge what is left, parsed again.
  const name = normalised(host.replace(/\.+$/, ""));
  if (name === undefined) return "not a valid host name";
  const v4 = parseIPv4(name);
  if (v4) return specialIPv4(v4);
  if (!name.includes(".")) return `"${name}" is a single-label name, resolved only on a local network`;
  const suffix = INTERNAL_SUFFIXES.find((item) => name === item || name.endsWith(`.${item}`));
  return suffix && `".${suffix}" names are local or reserved, never public`;
}

function normalised(host: string): string | undefined {
  try {
    return new URL(`http://${host}/`).hostname;
  } catch {
    return undefined;
  }
}

export function isPrivateHost(hostname: string): boolean {
  return privateReason(hostname) !== undefined;
}

export function checkTarget(url: string, allowPrivate: boolean): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new KaiError("VALIDATION_ERROR", "invalid request: the webhook URL is not a valid URL", {
      details: { fields: { url: ["must be an http(s) URL"] } },
    });
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new KaiError("VALIDATION_ERROR", "invalid request: webhook URLs must be http or https", {
      details: { fields: { url: ["must be an http(s) URL"] } },
    });
  }
  if (parsed.username || parsed.password)
    throw new KaiError("VALIDATION_ERROR", "invalid request: the webhook URL must not carry credentials");
  const reason = allowPrivate ? undefined : privateReason(parsed.hostname);
  if (reason) {
    throw new KaiError(
      "VALIDATION_ERROR",
      `invalid request: webhook URLs must be public; ${parsed.hostname} is refused (${reason}). Point the webhook at a public host name or address`,
      { details: { fields: { url: ["must be a public address"] } } },
    );
  }
}
