import { describe, expect, it } from "vitest";
import { displayUserCode, normaliseUserCode, USER_CODE_ALPHABET } from "../../shared/schemas/device";
import { newUserCode } from "./user-code";

describe("user codes", () => {
  it("are 8 letters of the unambiguous alphabet, and every letter turns up", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 500; i++) {
      const code = newUserCode();
      expect(code).toMatch(/^[BCDFGHJKLMNPQRSTVWXZ]{8}$/);
      for (const letter of code) seen.add(letter);
    }
    expect([...seen].sort().join("")).toBe(USER_CODE_ALPHABET);
  });

  it("are read back however a person types them, and shown with a dash", () => {
    expect(normaliseUserCode("bcdf-ghjk")).toBe("BCDFGHJK");
    expect(normaliseUserCode(" BCDF GHJK ")).toBe("BCDFGHJK");
    expect(displayUserCode("BCDFGHJK")).toBe("BCDF-GHJK");
    for (const wrong of ["BCDF-GHJ", "BCDF-GHJKL", "AEIO-UBCD", "BCDF_GHJK", "", "BCDF-GHJ1"])
      expect(normaliseUserCode(wrong), wrong).toBeUndefined();
  });
});
