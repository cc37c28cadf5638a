import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { atLeast, checkNode, MIN_NODE_VERSION } from "./node";

describe("the Node check", () => {
  it("asks for the Node that package.json's engines names", () => {
    const pkg = JSON.parse(readFileSync(path.join(import.meta.dirname, "../../../package.json"), "utf8"));
    expect(pkg.engines.node).toBe(`>=${MIN_NODE_VERSION}`);
  });

  it("compares versions part by part", () => {
    expect(atLeast("20.19.0", "20.19")).toBe(true);
    expect(atLeast("20.20.2", "20.19")).toBe(true);
    expect(atLeast("22.1.0", "20.19")).toBe(true);
    expect(atLeast("20.18.9", "20.19")).toBe(false);
    expect(atLeast("18.20.4", "20.19")).toBe(false);
  });

  it("fails a too old Node with the way to a new one", () => {
    const check = checkNode("18.20.4");
    expect(check.status).toBe("fail");
    expect(check.detail).toContain("needs 20.19 or newer");
    expect(check.fix).toContain("install a current Node");
    expect(checkNode("20.19.1").status).toBe("pass");
  });
});
