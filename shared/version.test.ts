import { describe, expect, it } from "vitest";
import { AGENT_RELEASE, compareVersions, isOutdated, parseVersion } from "./version";

describe("compareVersions", () => {
  it("orders major, minor and patch numerically, not as text", () => {
    expect(compareVersions("0.0.9", "0.1.0")).toBe(-1);
    expect(compareVersions("0.10.0", "0.9.0")).toBe(1);
    expect(compareVersions("1.0.0", "0.99.99")).toBe(1);
    expect(compareVersions("2.3.4", "2.3.4")).toBe(0);
    expect(compareVersions("2.3.10", "2.3.9")).toBe(1);
  });

  it("sorts a pre-release before its release and after the previous release", () => {
    expect(compareVersions("0.2.0-rc.1", "0.2.0")).toBe(-1);
    expect(compareVersions("0.2.0", "0.2.0-rc.1")).toBe(1);
    expect(compareVersions("0.2.0-rc.1", "0.1.9")).toBe(1);
  });

  it("orders pre-releases by semver's rules", () => {
    const ordered = [
      "1.0.0-alpha",
      "1.0.0-alpha.1",
      "1.0.0-alpha.beta",
      "1.0.0-beta",
      "1.0.0-beta.2",
      "1.0.0-beta.11",
      "1.0.0-rc.1",
      "1.0.0",
    ];
    for (let i = 0; i + 1 < ordered.length; i++) {
      expect(compareVersions(ordered[i] as string, ordered[i + 1] as string)).toBe(-1);
      expect(compareVersions(ordered[i + 1] as string, ordered[i] as string)).toBe(1);
    }
  });

  it("ignores build metadata and a leading v", () => {
    expect(compareVersions("1.2.3+abc", "1.2.3")).toBe(0);
    expect(compareVersions("v1.2.3", "1.2.3")).toBe(0);
  });

  it("answers undefined when either side is unparsable", () => {
    for (const bad of ["", "dev", "1.2", "1.2.3.4", "01.2.x", "1.2.3-", "latest", "1.2.3-a..b"]) {
      expect(parseVersion(bad)).toBeUndefined();
      expect(compareVersions(bad, "1.0.0")).toBeUndefined();
      expect(compareVersions("1.0.0", bad)).toBeUndefined();
    }
    expect(compareVersions("99999999999999999999.0.0", "1.0.0")).toBeUndefined();
  });
});

describe("isOutdated", () => {
  it("is true only for a parsable version older than the served release", () => {
    expect(isOutdated("0.0.9", "0.1.0")).toBe(true);
    expect(isOutdated("0.1.0-rc.1", "0.1.0")).toBe(true);
    expect(isOutdated("0.1.0", "0.1.0")).toBe(false);
    expect(isOutdated("0.2.0", "0.1.0")).toBe(false);
    expect(isOutdated(AGENT_RELEASE)).toBe(false);
  });

  it("is false for an unknown or unparsable version", () => {
    expect(isOutdated(null)).toBe(false);
    expect(isOutdated("dev")).toBe(false);
    expect(isOutdated("raw-test")).toBe(false);
  });
});
