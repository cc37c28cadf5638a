import { describe, expect, it } from "vitest";
import { nodeSatisfies } from "./manifest";

describe("nodeSatisfies", () => {
  it("compares Node versions with a >= range part by part", () => {
    expect(nodeSatisfies("20.20.2", ">=20.19")).toBe(true);
    expect(nodeSatisfies("20.19.0", ">=20.19")).toBe(true);
    expect(nodeSatisfies("20.18.9", ">=20.19")).toBe(false);
    expect(nodeSatisfies("22.0.0", ">=20.19")).toBe(true);
    expect(nodeSatisfies("18.20.0", ">= 20")).toBe(false);
  });

  it("does not block on a range it does not understand", () => {
    expect(nodeSatisfies("20.0.0", "^20 || ^22")).toBe(true);
  });
});
