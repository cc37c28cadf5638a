/**
 * The kai-agent release this edge serves (`/agent/kai-agent.mjs`) and calls current: an agent
 * whose hello reports an older version is marked outdated. Bump it with package.json's version.
 */
export const AGENT_RELEASE = "0.1.0";

declare const __KAI_AGENT_VERSION__: string | undefined;

/**
 * The version this agent reports: the release, unless the bundle was built with another one
 * (`scripts/build-agent.ts --version`, which the upgrade tests use to make an older agent).
 */
export const AGENT_VERSION: string = typeof __KAI_AGENT_VERSION__ === "string" ? __KAI_AGENT_VERSION__ : AGENT_RELEASE;

/** A parsed `major.minor.patch[-pre.release][+build]`; build metadata is dropped (it never orders). */
interface Version {
  core: [number, number, number];
  pre: (number | string)[];
}

const VERSION_PATTERN = /^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z.-]+)?$/;

/** `v` parsed, or undefined when it is not semver-shaped ("dev", "1.2", a git hash). */
export function parseVersion(v: string): Version | undefined {
  const match = VERSION_PATTERN.exec(v.trim());
  if (!match) return undefined;
  const core = [Number(match[1]), Number(match[2]), Number(match[3])] as [number, number, number];
  if (!core.every(Number.isSafeInteger)) return undefined;
  const pre = match[4] ? match[4].split(".").map((part) => (/^\d+$/.test(part) ? Number(part) : part)) : [];
  return { core, pre };
}

/**
 * Orders two versions semver's way: -1 when `a` is older, 0 equal, 1 newer. A pre-release
 * sorts before its release (0.2.0-rc.1 < 0.2.0), numeric identifiers numerically and before
 * alphanumeric ones. Undefined when either is unparsable: such a version (a source checkout's
 * "dev", a hand-built bundle) is neither older nor newer, and callers must decide what that means.
 */
export function compareVersions(a: string, b: string): -1 | 0 | 1 | undefined {
  const left = parseVersion(a);
  const right = parseVersion(b);
  if (!left || !right) return undefined;
  for (let i = 0; i < 3; i++) {
    const order = sign((left.core[i] ?? 0) - (right.core[i] ?? 0));
    if (order !== 0) return order;
  }
  return comparePre(left.pre, right.pre);
}

function comparePre(a: Version["pre"], b: Version["pre"]): -1 | 0 | 1 {
  // No pre-release outranks any pre-release of the same core.
  if (a.length === 0 || b.length === 0) return sign(b.length - a.length);
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i] as number | string;
    const y = b[i] as number | string;
    if (x === y) continue;
    if (typeof x === "number" && typeof y === "number") return sign(x - y);
    if (typeof x === "number") return -1;
    if (typeof y === "number") return 1;
    return x < y ? -1 : 1;
  }
  return sign(a.length - b.length);
}

const sign = (n: number): -1 | 0 | 1 => (n < 0 ? -1 : n > 0 ? 1 : 0);

/**
 * Whether an agent reporting `agentVersion` should upgrade to `release` (the one this edge
 * serves). Unknown or unparsable versions are not called outdated: the edge cannot tell, and
 * telling a developer running from source to "upgrade" would be wrong.
 */
export function isOutdated(agentVersion: string | null, release: string = AGENT_RELEASE): boolean {
  return agentVersion !== null && compareVersions(agentVersion, release) === -1;
}
