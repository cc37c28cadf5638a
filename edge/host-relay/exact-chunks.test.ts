import { describe, expect, it } from "vitest";
import { REPLIES } from "../../shared/command-replies";
import { logEntry } from "../../shared/schemas/services";
import { checkChunks } from "./chunks";
import { exactLogEntry, LOG_ENTRY_KEYS } from "./exact-chunks";

const valid = { timestamp: "2026-12-01T21:30:06.123456789Z", message: "ready", level: "info", stream: "stdout" };

/** Values an agent could send as a log chunk, valid or not; each is parsed from JSON, as the edge receives it. */
const samples: unknown[] = [
  valid,
  { ...valid, message: "" },
  { ...valid, message: 'quote " backslash \\ newline \n ünïcode 😀' },
  ...logEntry.shape.level.options.map((level) => ({ ...valid, level })),
  ...logEntry.shape.stream.options.map((stream) => ({ ...valid, stream })),
  { stream: "stderr", level: "warn", message: "keys in another order", timestamp: "t" },
  { ...valid, extra: "an unknown key" },
  { ...valid, extra: undefined },
  { timestamp: valid.timestamp, message: "three keys", level: "info" },
  { timestamp: valid.timestamp, message: "three keys and one other", level: "info", other: "stdout" },
  { ...valid, level: "INFO" },
  { ...valid, level: "fatal" },
  { ...valid, stream: "stdin" },
  { ...valid, message: 42 },
  { ...valid, message: null },
  { ...valid, timestamp: 1733088606 },
  { ...valid, message: { nested: true } },
  null,
  "a line",
  42,
  [valid],
  {},
].map((value) => JSON.parse(JSON.stringify(value)));

describe("the quick log-entry check", () => {
  it("knows the schema's keys, in its order", () => {
    expect(Object.keys(logEntry.shape)).toEqual([...LOG_ENTRY_KEYS]);
    expect(REPLIES["service.logs.follow"].chunk).toBe(logEntry);
  });

  it("passes only what the schema passes unchanged, and returns what the schema returns", () => {
    for (const sample of samples) {
      const quick = exactLogEntry(sample);
      if (quick === undefined) continue;
      const parsed = logEntry.safeParse(sample);
      expect(parsed.success, JSON.stringify(sample)).toBe(true);
      expect(JSON.stringify(quick)).toBe(JSON.stringify(parsed.data));
      expect(quick).not.toBe(sample);
    }
  });

  it("takes every entry of exactly the schema's shape, whatever its key order", () => {
    const exact = samples.filter((sample) => {
      const parsed = logEntry.safeParse(sample);
      return parsed.success && Object.keys(sample as object).length === LOG_ENTRY_KEYS.length;
    });
    expect(exact.length).toBeGreaterThan(8);
    for (const sample of exact) expect(exactLogEntry(sample), JSON.stringify(sample)).toBeDefined();
  });

  it("leaves an entry with an extra key to the schema, and refuses what the schema refuses", () => {
    expect(exactLogEntry({ ...valid, extra: "x" })).toBeUndefined();
    expect(exactLogEntry(JSON.parse(`{"timestamp":"t","message":"m","level":"info","__proto__":"stdout"}`))).toBe(
      undefined,
    );
    for (const sample of samples) {
      if (!logEntry.safeParse(sample).success) expect(exactLogEntry(sample), JSON.stringify(sample)).toBeUndefined();
    }
  });
});

describe("checkChunks of a log follow", () => {
  it("forwards exactly what the schema makes of each chunk, and drops what it refuses", () => {
    const checked = checkChunks("service.logs.follow", "request", 10, samples);
    const expected = samples.flatMap((sample, index) => {
      const parsed = logEntry.safeParse(sample);
      return parsed.success ? [{ seq: 10 + index, data: parsed.data }] : [];
    });
    expect(JSON.stringify(checked)).toBe(JSON.stringify(expected));
    expect(checked.some((chunk) => "extra" in (chunk.data as object))).toBe(false);
    expect(checked.length).toBeLessThan(samples.length);
  });
});
