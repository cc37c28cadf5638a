import { describe, expect, it } from "vitest";
import { fromBase64Url, randomDigits, randomSecret, timingSafeEqual, toBase64Url } from "./crypto";

describe("identity crypto helpers", () => {
  it("compares equal and unequal values of any length", () => {
    expect(timingSafeEqual("abc", "abc")).toBe(true);
    expect(timingSafeEqual("abc", "abd")).toBe(false);
    expect(timingSafeEqual("abc", "abcd")).toBe(false);
    expect(timingSafeEqual("", "a")).toBe(false);
    expect(timingSafeEqual("", "")).toBe(true);
  });

  it("round-trips base64url", () => {
    const bytes = Uint8Array.from({ length: 64 }, (_, i) => (i * 37) % 256);
    expect(fromBase64Url(toBase64Url(bytes))).toEqual(bytes);
    expect(toBase64Url(bytes)).not.toMatch(/[+/=]/);
  });

  it("makes 6-digit codes with every digit in use", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const code = randomDigits(6);
      expect(code).toMatch(/^\d{6}$/);
      for (const digit of code) seen.add(digit);
    }
    expect(seen.size).toBe(10);
  });

  it("makes prefixed secrets with 256 bits of randomness", () => {
    const secret = randomSecret("kai_pat_");
    expect(secret).toMatch(/^kai_pat_[\w-]{43}$/);
    expect(randomSecret("kai_pat_")).not.toBe(secret);
  });
});
