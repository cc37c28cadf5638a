import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { atLeast, MIN_NODE_VERSION, nodeSatisfies } from "./node-version";

describe("Node versions", () => {
  it("the minimum is the one package.json's engines names", () => {
    const pkg = JSON.parse(readFileSync(path.join(import.meta.dirname, "../package.json"), "utf8"));
    expect(pkg.engines.node).toBe(`>=${MIN_NODE_VERSION}`);
  });

  it("compares versions part by part", () => {
    expect(atLeast("20.19.0", "20.19")).toBe(true);
    expect(atLeast("20.20.2", "20.19")).toBe(true);
    expect(atLeast("22.1.0", "20.19")).toBe(true);
    expect(atLeast("20.18.9", "20.19")).toBe(false);
    expect(atLeast("18.20.4", "20.19")).toBe(false);
  });

  it("checks a manifest's >= range, and does not block on a range it does not understand", () => {
    expect(nodeSatisfies("20.20.2", ">=20.19")).toBe(true);
    expect(nodeSatisfies("20.18.9", ">=20.19")).toBe(false);
    expect(nodeSatisfies("18.20.0", ">= 20")).toBe(false);
    expect(nodeSatisfies("20.0.0", "^20 || ^22")).toBe(true);
  });
});
