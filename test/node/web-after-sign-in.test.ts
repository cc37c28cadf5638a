import { describe, expect, it } from "vitest";
import { afterSignIn } from "../../web/src/state/after-sign-in";

const ORIGIN = "https://app.kai.test";

describe("afterSignIn (web/src/state/after-sign-in.ts)", () => {
  it("goes back to a page of this dashboard, with its query and hash", () => {
    expect(afterSignIn("/account", ORIGIN)).toBe("/account");
    expect(afterSignIn("/device?code=ABCD-EFGH#top", ORIGIN)).toBe("/device?code=ABCD-EFGH#top");
    expect(afterSignIn(`${ORIGIN}/hosts/1`, ORIGIN)).toBe("/hosts/1");
  });

  it("never leaves for another site, however the address is spelled", () => {
    for (const next of [
      "//evil.example",
      "/\\evil.example",
      "/\t/evil.example",
      "/\n/evil.example",
      "\\\\evil.example",
      "https://evil.example/account",
      "javascript:alert(1)",
      "http://app.kai.test/account",
    ])
      expect(afterSignIn(next, ORIGIN), JSON.stringify(next)).toBe("/machines");
  });

  it("goes to Machines without a next", () => {
    expect(afterSignIn(undefined, ORIGIN)).toBe("/machines");
    expect(afterSignIn("", ORIGIN)).toBe("/machines");
  });
});
