import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";

describe("system routes", () => {
  it("answers /health", async () => {
    const res = await SELF.fetch("https://kai.test/health");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok" });
  });
});
