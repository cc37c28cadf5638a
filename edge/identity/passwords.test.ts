import { describe, expect, it } from "vitest";
import { dummyPasswordHash, hashPassword, PBKDF2_ITERATIONS, PBKDF2_MAX_ITERATIONS, verifyPassword } from "./passwords";

const PEPPER = "unit-test-pepper-0123456789";

describe("password hashing", () => {
  it("stays within the production Workers cap of 100,000 PBKDF2 iterations", () => {
    expect(PBKDF2_MAX_ITERATIONS).toBeLessThanOrEqual(100_000);
    expect(PBKDF2_ITERATIONS).toBeLessThanOrEqual(PBKDF2_MAX_ITERATIONS);
  });

  it("refuses to hash above the cap, and never matches a stored hash that claims more", async () => {
    await expect(hashPassword("secret", PEPPER, 100_001)).rejects.toThrow(/iterations/);
    const real = await hashPassword("secret", PEPPER);
    const inflated = real.replace("$100000$", "$600000$");
    expect(await verifyPassword("secret", inflated, PEPPER)).toBe(false);
  });

  it("stores its parameters, salts every hash, and verifies", async () => {
    const a = await hashPassword("secret", PEPPER);
    const b = await hashPassword("secret", PEPPER);
    expect(a).toMatch(/^pbkdf2-sha256\$100000\$[\w-]{22}\$[\w-]{43}$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword("secret", a, PEPPER)).toBe(true);
    expect(await verifyPassword("Secret", a, PEPPER)).toBe(false);
  });

  it("depends on the pepper: the same hash fails with another one", async () => {
    const hash = await hashPassword("secret", PEPPER);
    expect(await verifyPassword("secret", hash, "another-pepper-0123456789")).toBe(false);
  });

  it("never matches malformed hashes", async () => {
    for (const stored of ["", "plain", "md5$1$a$b", "pbkdf2-sha256$abc$a$b", "pbkdf2-sha256$1000$$"]) {
      expect(await verifyPassword("secret", stored, PEPPER)).toBe(false);
    }
  });

  it("has a real dummy hash for unknown accounts, computed once", async () => {
    const first = await dummyPasswordHash(PEPPER);
    expect(first).toMatch(/^pbkdf2-sha256\$100000\$/);
    expect(await dummyPasswordHash(PEPPER)).toBe(first);
  });
});
