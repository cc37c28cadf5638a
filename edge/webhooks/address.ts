/**
 * The address blocks a webhook must never reach: the IANA IPv4 and
 * IPv6 special-purpose registries, read conservatively (a block is refused unless the whole
 * of it is plain public unicast). Written over bytes, not strings, because one address has
 * many spellings (`::ffff:127.0.0.1`, `::ffff:7f00:1`, `0:0:0:0:0:ffff:7f00:1`) and a string
 * check misses all but the one it was written for.
 */

/** A block: its first bytes and prefix length, and what it is (said back in the refusal). */
interface Block {
  prefix: number[];
  bits: number;
  name: string;
}

const block = (prefix: number[], bits: number, name: string): Block => ({ prefix, bits, name });

function within(bytes: Uint8Array, { prefix, bits }: Block): boolean {
  for (let bit = 0; bit < bits; bit += 8) {
    const take = Math.min(8, bits - bit);
    const mask = (0xff << (8 - take)) & 0xff;
    if (((bytes[bit / 8] ?? 0) & mask) !== ((prefix[bit / 8] ?? 0) & mask)) return false;
  }
  return true;
}

/** IANA IPv4 Special-Purpose Address Registry, plus multicast and the reserved class E. */
const V4_BLOCKS = [
  block([0], 8, "0.0.0.0/8, this network"),
  block([10], 8, "10.0.0.0/8, private"),
  block([100, 64], 10, "100.64.0.0/10, carrier-grade NAT"),
  block([127], 8, "127.0.0.0/8, loopback"),
  block([169, 254], 16, "169.254.0.0/16, link-local and cloud metadata"),
  block([172, 16], 12, "172.16.0.0/12, private"),
  block([192, 0, 0], 24, "192.0.0.0/24, IETF protocol assignments"),
  block([192, 0, 2], 24, "192.0.2.0/24, documentation"),
  block([192, 88, 99], 24, "192.88.99.0/24, 6to4 relay anycast"),
  block([192, 168], 16, "192.168.0.0/16, private"),
  block([198, 18], 15, "198.18.0.0/15, benchmarking"),
  block([198, 51, 100], 24, "198.51.100.0/24, documentation"),
  block([203, 0, 113], 24, "203.0.113.0/24, documentation"),
  block([224], 4, "224.0.0.0/4, multicast"),
  block([240], 4, "240.0.0.0/4, reserved and broadcast"),
];

/**
 * IANA IPv6 Special-Purpose Address Registry. Blocks that carry an IPv4 address inside
 * (mapped, compatible, SIIT, NAT64, Teredo) are refused whole: whoever means a public IPv4
 * target can write it as IPv4. 6to4 (2002::/16) is judged by the IPv4 address it embeds.
 */
const V6_BLOCKS = [
  block([], 128, "::, unspecified"),
  block([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], 128, "::1, loopback"),
  block([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff], 96, "::ffff:0:0/96, IPv4-mapped"),
  block([0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0], 96, "::ffff:0:0:0/96, IPv4-translated (SIIT)"),
  block([], 96, "::/96, IPv4-compatible"),
  block([0, 0x64, 0xff, 0x9b], 96, "64:ff9b::/96, NAT64"),
  block([0, 0x64, 0xff, 0x9b, 0, 1], 48, "64:ff9b:1::/48, local NAT64"),
  block([1, 0, 0, 0, 0, 0, 0, 0], 64, "100::/64, discard-only"),
  block([0x20, 0x01, 0x0d, 0xb8], 32, "2001:db8::/32, documentation"),
  block([0x20, 0x01, 0], 23, "2001::/23, IETF protocol assignments (Teredo, benchmarking, ORCHID)"),
  block([0x3f, 0xff, 0], 20, "3fff::/20, documentation"),
  block([0xfc], 7, "fc00::/7, unique local"),
  block([0xfe, 0x80], 10, "fe80::/10, link-local"),
  block([0xfe, 0xc0], 10, "fec0::/10, site-local"),
  block([0xff], 8, "ff00::/8, multicast"),
];
const GLOBAL_UNICAST = block([0x20], 3, "2000::/3");
const SIX_TO_FOUR = block([0x20, 0x02], 16, "2002::/16, 6to4");

const dotted = (bytes: Uint8Array) => Array.from(bytes).join(".");

/** Why an IPv4 address is not a public target, or undefined when it is. */
export function specialIPv4(bytes: Uint8Array): string | undefined {
  return V4_BLOCKS.find((candidate) => within(bytes, candidate))?.name;
}

/** Why an IPv6 address is not a public target, or undefined when it is. */
export function specialIPv6(bytes: Uint8Array): string | undefined {
  const named = V6_BLOCKS.find((candidate) => within(bytes, candidate));
  if (named) return named.name;
  if (within(bytes, SIX_TO_FOUR)) {
    const embedded = bytes.slice(2, 6);
    const reason = specialIPv4(embedded);
    return reason && `${SIX_TO_FOUR.name} embedding ${dotted(embedded)} (${reason})`;
  }
  // Everything outside global unicast is reserved or unassigned today.
  if (!within(bytes, GLOBAL_UNICAST)) return "outside 2000::/3, not global unicast";
  return undefined;
}
