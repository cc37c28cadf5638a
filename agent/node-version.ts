/** The oldest Node kai-agent runs on: package.json's `engines` (a unit test keeps the two equal). */
export const MIN_NODE_VERSION = "20.19";

const parts = (version: string) => version.split(".").map((part) => Number.parseInt(part, 10) || 0);

/** Whether Node `version` (e.g. "20.19.2") is at least `minimum` (e.g. "20.19"), part by part. */
export function atLeast(version: string, minimum: string): boolean {
  const have = parts(version);
  const need = parts(minimum);
  for (let i = 0; i < need.length; i += 1) {
    const a = have[i] ?? 0;
    const b = need[i] ?? 0;
    if (a !== b) return a > b;
  }
  return true;
}

/**
 * Whether Node `version` meets a release manifest's range, as package.json's `engines` writes it
 * (">=20.19"). Any other form of range is not checked: an unknown form must not block an upgrade.
 */
export function nodeSatisfies(version: string, range: string): boolean {
  const wanted = /^>=\s*(\d+(?:\.\d+){0,2})$/.exec(range.trim());
  return wanted?.[1] ? atLeast(version, wanted[1]) : true;
}
