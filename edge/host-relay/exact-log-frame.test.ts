import { describe, expect, it } from "vitest";
import { logEntry } from "../../shared/schemas/services";
import { exactLogFrame } from "./exact-log-frame";

const id = "0b7c5a3e-2f4d-4c1a-9e8b-6d5f4a3b2c1d";
const entry = (message: string, extra: Record<string, string> = {}) => ({
  timestamp: "2026-12-02T03:10:36.123456789Z",
  message,
  level: "info",
  stream: "stdout",
  ...extra,
});
/** A frame's text as kai-agent's ChunkBatcher writes it (entries through JSON.stringify). */
const frameOf = (entries: unknown[], seq = 7) =>
  `{"type":"chunks","id":"${id}","seq":${seq},"data":[${entries.map((one) => JSON.stringify(one)).join(",")}]}`;
/** The same, with the entries' text given as is. */
const rawFrame = (entries: string, seq = "7") => `{"type":"chunks","id":"${id}","seq":${seq},"data":[${entries}]}`;
const good = JSON.stringify(entry("ok"));

/** What a batched viewer gets through the full path: each entry parsed, checked and written again. */
function throughParse(entries: string): string {
  const values = JSON.parse(`[${entries}]`) as unknown[];
  return values.map((value) => JSON.stringify(logEntry.parse(value))).join(",");
}

/** Characters and pieces that JSON escapes, or that a lax scan could let through changed. */
const PIECES = [
  "a",
  "7",
  " ",
  '"',
  "\\",
  "/",
  "\u007f",
  "é",
  "\u2028",
  "\u2029",
  "😀",
  "\ud83d",
  "\ude00",
  "\ufeff",
  ...Array.from({ length: 0x20 }, (_, code) => String.fromCharCode(code)),
];

describe("exactLogFrame", () => {
  it("reads a frame as kai-agent writes it: id, first number, count and the entries' text", () => {
    const entries = [entry("1"), entry("two", { level: "warn" }), entry("", { level: "error", stream: "stderr" })];
    const text = frameOf(entries, 41);
    expect(exactLogFrame(text)).toEqual({
      id,
      seq: 41,
      count: 3,
      entries: entries.map((one) => JSON.stringify(one)).join(","),
    });
  });

  it("asks whether a frame is wanted, with its id and first number, before reading its entries", () => {
    const asked: [string, number][] = [];
    const text = frameOf([entry("1")], 12);
    const refuse = (...args: [string, number]) => {
      asked.push(args);
      return false;
    };
    expect(exactLogFrame(text, refuse)).toBeUndefined();
    expect(asked).toEqual([[id, 12]]);
    expect(exactLogFrame(text, () => true)?.count).toBe(1);
  });

  it("accepts what JSON.stringify writes of any message only where the full path writes the same bytes", () => {
    // Every piece alone and in pairs (a surrogate pair, an escape next to a quote, …).
    const messages = PIECES.flatMap((first) => [first, ...PIECES.map((second) => `${first}${second}`)]);
    let accepted = 0;
    for (const message of messages) {
      const text = frameOf([entry(message), entry(`x${message}y`)]);
      const exact = exactLogFrame(text);
      if (!exact) continue;
      accepted += 1;
      expect(exact.entries, JSON.stringify(message)).toBe(throughParse(exact.entries));
    }
    // Everything but a lone surrogate (JSON.stringify writes it as `\udXXX`, left to the full path).
    const loneSurrogate = (message: string) =>
      /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(message);
    expect(accepted).toBe(messages.filter((message) => !loneSurrogate(message)).length);
  });

  it("leaves to the full parse any other spelling of the same entry", () => {
    const variants = [
      // keys: another order, one twice, one more, one missing, the prototype's
      `{"message":"m","timestamp":"t","level":"info","stream":"stdout"}`,
      `{"timestamp":"t","message":"m","level":"info","stream":"stdout","stream":"stderr"}`,
      `{"timestamp":"t","timestamp":"u","message":"m","level":"info","stream":"stdout"}`,
      `{"timestamp":"t","message":"m","level":"info","stream":"stdout","extra":"x"}`,
      `{"timestamp":"t","message":"m","level":"info"}`,
      `{"timestamp":"t","message":"m","level":"info","__proto__":"stdout"}`,
      // escapes JSON.stringify does not write
      `{"timestamp":"t","message":"\\/","level":"info","stream":"stdout"}`,
      `{"timestamp":"t","message":"\\u00e9","level":"info","stream":"stdout"}`,
      `{"timestamp":"t","message":"\\u2028","level":"info","stream":"stdout"}`,
      `{"timestamp":"t","message":"\\u001B","level":"info","stream":"stdout"}`,
      `{"timestamp":"t","message":"\\u000a","level":"info","stream":"stdout"}`,
      `{"timestamp":"t","message":"\\u0022","level":"info","stream":"stdout"}`,
      `{"timestamp":"t","message":"\\ud83d\\ude00","level":"info","stream":"stdout"}`,
      // characters JSON.stringify escapes, raw
      `{"timestamp":"t","message":"a\nb","level":"info","stream":"stdout"}`,
      `{"timestamp":"t","message":"\u0000","level":"info","stream":"stdout"}`,
      `{"timestamp":"t","message":"\ud83d","level":"info","stream":"stdout"}`,
      // not the schema's words, or not strings
      `{"timestamp":"t","message":"m","level":"INFO","stream":"stdout"}`,
      `{"timestamp":"t","message":"m","level":"fatal","stream":"stdout"}`,
      `{"timestamp":"t","message":"m","level":"info","stream":"stdin"}`,
      `{"timestamp":"t","message":42,"level":"info","stream":"stdout"}`,
      `{"timestamp":"t","message":null,"level":"info","stream":"stdout"}`,
      // spaces between tokens, an unfinished string or entry
      `{"timestamp": "t","message":"m","level":"info","stream":"stdout"}`,
      `{"timestamp":"t","message":"m","level":"info","stream":"stdout"} `,
      `{"timestamp":"t","message":"m\\","level":"info","stream":"stdout"}`,
      `{"timestamp":"t","message":"m","level":"info","stream":"stdout"`,
      "",
      "null",
      `"a line"`,
      `[${good}]`,
    ];
    for (const variant of variants) {
      expect(exactLogFrame(rawFrame(variant)), variant).toBeUndefined();
      expect(exactLogFrame(rawFrame(`${good},${variant}`)), variant).toBeUndefined();
      expect(exactLogFrame(rawFrame(`${variant},${good}`)), variant).toBeUndefined();
    }
  });

  it("reads only the frame's own head and end", () => {
    const frames = [
      rawFrame(`${good},`),
      rawFrame(`,${good}`),
      rawFrame(`${good},,${good}`),
      rawFrame(good, "07"),
      rawFrame(good, "-1"),
      rawFrame(good, "1.5"),
      rawFrame(good, "1e3"),
      rawFrame(good, "1234567890123456"),
      `${rawFrame(good)} `,
      `${rawFrame(good)}}`,
      rawFrame(good).replace('"chunks"', '"chunk"'),
      rawFrame(good).replace(id, "not-a-request-id-but-36-characters-"),
      rawFrame(good).replace(id, id.replace(/-/g, "0")),
      rawFrame(good).replace(`"seq"`, `"id":"${id}","seq"`),
      `{"type":"chunks","id":"${id}","seq":7,"data":[${good}],"data":[${good}]}`,
      `{"type":"chunks","id":"${id}","seq":7,"extra":1,"data":[${good}]}`,
      ` ${rawFrame(good)}`,
    ];
    for (const frame of frames) expect(exactLogFrame(frame), frame).toBeUndefined();
    expect(exactLogFrame(rawFrame(good, "123456789012345"))?.seq).toBe(123456789012345);
    expect(exactLogFrame(rawFrame(good, "0"))?.seq).toBe(0);
  });

  it("leaves a frame over the protocol's size limit to the full parse, which refuses it", () => {
    const line = JSON.stringify(entry("x".repeat(1000)));
    const entries = Array.from({ length: 1100 }, () => line).join(",");
    expect(exactLogFrame(rawFrame(entries))).toBeUndefined();
    expect(exactLogFrame(rawFrame(entries.slice(0, 100 * (line.length + 1) - 1)))?.count).toBe(100);
  });
});
