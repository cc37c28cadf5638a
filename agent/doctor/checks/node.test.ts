import { describe, expect, it } from "vitest";
import { checkNode } from "./node";

describe("the Node check", () => {
  it("fails a too old Node with the way to a new one", () => {
    const check = checkNode("18.20.4");
    expect(check.status).toBe("fail");
    expect(check.detail).toContain("needs 20.19 or newer");
    expect(check.fix).toContain("install a current Node");
    expect(checkNode("20.19.1").status).toBe("pass");
  });
});
