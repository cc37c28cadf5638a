import { describe, expect, it } from "vitest";
import { isoTime } from "./iso-time";

describe("isoTime", () => {
  it("writes what toISOString writes", () => {
    const moments = [
      0,
      1,
      999,
      Date.UTC(2024, 1, 29, 23, 59, 59, 999),
      Date.UTC(1999, 11, 31, 23, 59, 59, 999),
      Date.UTC(2000, 0, 1),
      Date.parse("0000-01-01T00:00:00.000Z"),
      Date.parse("0099-06-15T12:30:45.067Z"),
      Date.UTC(9999, 11, 31, 23, 59, 59, 999),
      -1,
      Date.now(),
    ];
    // And a spread of moments over four centuries, with milliseconds.
    for (let step = 0; step < 2000; step++) moments.push(Math.round(-1e12 + step * 7.3e9 + step * 37));
    for (const millis of moments) expect(isoTime(millis), String(millis)).toBe(new Date(millis).toISOString());
  });

  it("leaves years past 9999 and before 0 to toISOString's six-digit form", () => {
    const far = Date.UTC(10000, 0, 1);
    expect(isoTime(far)).toBe("+010000-01-01T00:00:00.000Z");
    const before = Date.parse("0000-01-01T00:00:00.000Z") - 1;
    expect(isoTime(before)).toBe("-000001-12-31T23:59:59.999Z");
  });

  it("throws on an invalid time, as toISOString does", () => {
    expect(() => isoTime(Number.NaN)).toThrow(RangeError);
  });
});
