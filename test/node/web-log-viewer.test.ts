import { describe, expect, it } from "vitest";
import type { LogEntry } from "../../shared/schemas/services";
import { ansiSpans } from "../../web/src/components/logs/ansi-spans";
import { FollowCursor } from "../../web/src/components/logs/follow-cursor";
import { LineBuffer } from "../../web/src/components/logs/line-buffer";
import { readLogFrame } from "../../web/src/components/logs/log-frame";
import { toLogLine, toLogText } from "../../web/src/components/logs/log-line";
import { isAtBottom, rowWindow, scrollTopFor } from "../../web/src/components/logs/row-window";
import { markMatches, matchRows, stepMatch } from "../../web/src/components/logs/search";

const entry = (message: string, timestamp = "2026-12-01T09:00:00.000000001Z", stream: LogEntry["stream"] = "stdout") =>
  ({ timestamp, message, level: "info", stream }) satisfies LogEntry;

describe("the log viewer's pure parts (web/src/components/logs)", () => {
  it("turns ANSI colours into class names and keeps markup as plain text", () => {
    const spans = ansiSpans("ok \u001b[31m<script>alert(1)</script>\u001b[0m \u001b[1;32m<img src=x onerror=alert(1)>");
    expect(spans).toEqual([
      { text: "ok ", classes: "" },
      { text: "<script>alert(1)</script>", classes: "ansi-red-fg" },
      { text: " ", classes: "" },
      { text: "<img src=x onerror=alert(1)>", classes: "ansi-green-fg ansi-bold" },
    ]);
    expect(ansiSpans("plain <b>")).toEqual([{ text: "plain <b>", classes: "" }]);
    // 256-colour and true-colour runs keep the default colour: no class, no inline style.
    expect(ansiSpans("\u001b[38;5;208mX\u001b[38;2;1;2;3mY").map((span) => span.classes)).toEqual(["", ""]);
  });

  it("keeps a line's text without escapes for search and download", () => {
    const line = toLogLine(entry("\u001b[33mWARN\u001b[0m Disk"), 7);
    expect(line).toMatchObject({ id: 7, text: "WARN Disk", folded: "warn disk" });
    expect(toLogText([line])).toBe("2026-12-01T09:00:00.000000001Z stdout WARN Disk\n");
  });

  it("finds, marks and steps through matches ignoring case", () => {
    const lines = ["alpha", "Beta", "ALPHABET", "gamma"].map((text, id) => toLogLine(entry(text), id));
    expect(matchRows(lines, "alpha")).toEqual([0, 2]);
    expect(matchRows(lines, "")).toEqual([]);
    expect(markMatches("a Bb b", "b")).toEqual([
      { text: "a ", match: false },
      { text: "B", match: true },
      { text: "b", match: true },
      { text: " ", match: false },
      { text: "b", match: true },
    ]);
    expect(markMatches("none", "x")).toEqual([{ text: "none", match: false }]);
    expect(stepMatch(-1, 3, 1)).toBe(0);
    expect(stepMatch(-1, 3, -1)).toBe(2);
    expect(stepMatch(2, 3, 1)).toBe(0);
    expect(stepMatch(0, 3, -1)).toBe(2);
    expect(stepMatch(0, 0, 1)).toBe(-1);
  });

  it("keeps only the newest lines of a bounded buffer", () => {
    const buffer = new LineBuffer<number>(3);
    for (let value = 0; value < 10; value++) buffer.push(value);
    expect(buffer.toArray()).toEqual([7, 8, 9]);
    expect(buffer.length).toBe(3);
    expect(buffer.dropped).toBe(7);
    expect([buffer.at(0), buffer.at(2), buffer.at(3), buffer.at(-1)]).toEqual([7, 9, undefined, undefined]);
  });

  it("puts only the rows on screen plus a margin in the window", () => {
    expect(rowWindow(0, 400, 20, 50_000, 30)).toEqual({ start: 0, end: 51 });
    expect(rowWindow(20_000, 400, 20, 50_000, 30)).toEqual({ start: 970, end: 1051 });
    expect(rowWindow(999_600, 400, 20, 50_000, 30)).toEqual({ start: 49_950, end: 50_000 });
    expect(rowWindow(0, 400, 20, 0)).toEqual({ start: 0, end: 0 });
    expect(isAtBottom(600, 400, 1000, 20)).toBe(true);
    expect(isAtBottom(570, 400, 1000, 20)).toBe(false);
    expect(scrollTopFor(100, 400, 20)).toBe(1810);
  });

  it("resumes a follow from the last timestamp without repeats or gaps", () => {
    const cursor = new FollowCursor(500);
    expect(cursor.query()).toBe("lines=500");
    cursor.opened();
    const t1 = "2026-12-01T09:00:01.5Z";
    const t2 = "2026-12-01T09:00:02.123456789Z";
    expect(cursor.accept(0, entry("a", t1))).toBe(true);
    expect(cursor.accept(1, entry("b", t2))).toBe(true);
    expect(cursor.accept(2, entry("c", t2))).toBe(true);
    expect(cursor.accept(2, entry("c", t2))).toBe(false); // the same seq twice on one socket
    expect(cursor.query()).toBe(`since=${encodeURIComponent(t2)}`);
    // The next socket starts again at seq 0 and sends both lines at t2 again, then new ones.
    cursor.opened();
    expect(cursor.accept(0, entry("b", t2))).toBe(false);
    expect(cursor.accept(1, entry("c", t2))).toBe(false);
    expect(cursor.accept(2, entry("d", t2))).toBe(true);
    expect(cursor.accept(3, entry("e", "2026-12-01T09:00:03Z"))).toBe(true);
    // A resume whose first line is newer than the cursor skips nothing.
    cursor.opened();
    expect(cursor.accept(0, entry("f", "2026-12-01T09:00:04Z"))).toBe(true);
  });

  it("reads only well-formed follow frames", () => {
    const data = entry("hi");
    expect(readLogFrame(JSON.stringify({ type: "chunk", seq: 3, data }))).toEqual({
      type: "chunk",
      seq: 3,
      entry: data,
    });
    expect(readLogFrame(JSON.stringify({ type: "end", result: { ended: "container-stopped", lines: 2 } }))).toEqual({
      type: "end",
      ended: "container-stopped",
    });
    expect(readLogFrame(JSON.stringify({ type: "error", error: { code: "AGENT_OFFLINE", message: "gone" } }))).toEqual({
      type: "error",
      error: { code: "AGENT_OFFLINE", message: "gone" },
    });
    expect(readLogFrame(JSON.stringify({ type: "chunk", seq: 0, data: { ...data, stream: "stdin" } }))).toBeUndefined();
    expect(readLogFrame("not json")).toBeUndefined();
  });
});
