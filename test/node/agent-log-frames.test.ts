import { describe, expect, it } from "vitest";
import { ChunkBatcher } from "../../agent/chunk-batcher";
import { logEntryJson } from "../../agent/chunk-json";
import { exactLogFrame } from "../../edge/host-relay/exact-log-frame";

/**
 * The edge forwards a busy log follow's frames unparsed only when they are exactly what
 * kai-agent writes: this ties the agent's writer to the edge's scan, so a change to either
 * that stops the shortcut fails here rather than silently costing every follow.
 */
describe("a log follow's frames as kai-agent writes them", () => {
  it("are read by the edge's exact scan, entries and numbering intact", () => {
    const sent: string[] = [];
    const id = crypto.randomUUID();
    const batcher = new ChunkBatcher(
      id,
      (text) => sent.push(text),
      true,
      (entry) => logEntryJson(entry as never),
    );
    const entries = ["plain", 'quote " and \\ backslash', "tab\tnewline\ncontrol\u0001", "emoji 😀 and \u2028"].map(
      (message, n) => ({
        timestamp: `2026-12-02T04:3${n}:00.000000001Z`,
        message,
        level: n % 2 ? "warn" : "info",
        stream: n % 2 ? "stderr" : "stdout",
      }),
    );
    for (const entry of entries) batcher.push(entry);
    batcher.flush();
    expect(sent).toHaveLength(1);
    const frame = exactLogFrame(sent[0] ?? "");
    expect(frame).toEqual({
      id,
      seq: 0,
      count: entries.length,
      entries: entries.map((e) => JSON.stringify(e)).join(","),
    });
  });
});
