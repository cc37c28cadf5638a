import { describe, expect, it } from "vitest";
import { isLoopback } from "./loopback";

describe("isLoopback", () => {
  it("knows this machine's names as a URL spells them", () => {
    for (const url of ["http://localhost:8787", "http://kai.localhost", "http://127.0.0.1", "http://127.1.2.3:1"])
      expect(isLoopback(new URL(url).hostname), url).toBe(true);
    expect(isLoopback(new URL("http://[::1]:8787").hostname)).toBe(true);
    expect(isLoopback("::1")).toBe(true);
  });

  it("does not take a look-alike for this machine", () => {
    for (const url of ["http://127.0.0.1.evil.example", "http://localhost.example", "http://10.0.0.1", "http://[::2]"])
      expect(isLoopback(new URL(url).hostname), url).toBe(false);
  });
});
