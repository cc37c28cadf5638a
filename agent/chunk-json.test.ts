import { describe, expect, it } from "vitest";
import type { LogEntry } from "../shared/schemas/services";
import { ChunkBatcher } from "./chunk-batcher";
import { chunkJsonOf, logEntryJson } from "./chunk-json";
import { toLogEntry } from "./runtime/docker/log-stream";

const entries: LogEntry[] = [
  toLogEntry({ stream: "stdout", text: "2026-12-01T21:30:06.123456789Z 12345" }),
  toLogEntry({ stream: "stderr", text: '2026-12-01T21:30:06Z level=error quote " backslash \\ tab \t end' }),
  toLogEntry({ stream: "stdout", text: "2026-12-01T21:30:06+02:00 [debug] ünïcode 😀 \u0000 \u2028 \ud800" }),
  toLogEntry({ stream: "stderr", text: "no timestamp, WARNING: </script>" }),
  { timestamp: "", message: "", level: "info", stream: "stdout" },
];

describe("logEntryJson", () => {
  it("writes what JSON.stringify writes for a log entry, escapes and all", () => {
    for (const entry of entries) expect(logEntryJson(entry)).toBe(JSON.stringify(entry));
    expect(new Set(entries.map((entry) => entry.level)).size).toBe(4);
  });

  it("stringifies an entry that is not as typed rather than write invalid JSON", () => {
    const odd = [
      { timestamp: "t", message: undefined, level: "info", stream: "stdout" },
      { timestamp: "t", message: "m", level: 'in"fo', stream: "stdout" },
      { timestamp: 7, message: "m", level: "info", stream: "stderr" },
    ] as unknown as LogEntry[];
    for (const entry of odd) expect(logEntryJson(entry)).toBe(JSON.stringify(entry));
  });

  it("is what a log follow's batcher writes its chunks with, and only a log follow's", () => {
    expect(chunkJsonOf("service.logs.follow")).toBe(logEntryJson);
    expect(chunkJsonOf("scripts.run")).toBeUndefined();
    expect(chunkJsonOf("container.list")).toBeUndefined();
    const texts: string[] = [];
    const batcher = new ChunkBatcher("request-1", (text) => texts.push(text), true, chunkJsonOf("service.logs.follow"));
    for (const entry of entries) batcher.push(entry);
    batcher.flush();
    expect(texts.map((text) => JSON.parse(text))).toEqual([{ type: "chunks", id: "request-1", seq: 0, data: entries }]);
  });
});
