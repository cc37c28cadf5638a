import { describe, expect, it } from "vitest";
import { LogDemuxer, levelOf, type RawLogLine, toLogEntry } from "./log-stream";

/** One frame of Docker's multiplexed stream. */
function frame(stream: 1 | 2, text: string | Buffer): Buffer {
  const payload = typeof text === "string" ? Buffer.from(text, "utf8") : text;
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

/** Feeds `data` cut into pieces of `size` bytes. */
function feed(demuxer: LogDemuxer, data: Buffer, size: number): RawLogLine[] {
  const lines: RawLogLine[] = [];
  for (let at = 0; at < data.length; at += size) lines.push(...demuxer.push(data.subarray(at, at + size)));
  return [...lines, ...demuxer.end()];
}

const T1 = "2025-05-05T10:00:00.123456789Z";
const T2 = "2025-05-05T10:00:01.000000001Z";

describe("LogDemuxer, multiplexed (no TTY)", () => {
  const stream = Buffer.concat([
    frame(1, `${T1} hello stdout\n`),
    frame(2, `${T1} ERROR bad thing\n`),
    frame(1, `${T2} café ☕ done\n`),
    frame(2, `${T2} still stderr\n`),
  ]);
  const expected: RawLogLine[] = [
    { stream: "stdout", text: `${T1} hello stdout` },
    { stream: "stderr", text: `${T1} ERROR bad thing` },
    { stream: "stdout", text: `${T2} café ☕ done` },
    { stream: "stderr", text: `${T2} still stderr` },
  ];

  it("separates stdout and stderr in order", () => {
    expect(feed(new LogDemuxer({ tty: false }), stream, stream.length)).toEqual(expected);
  });

  it.each([1, 2, 3, 5, 7, 8, 9, 13])(
    "survives chunks of %i bytes (split headers, frames and UTF-8 characters)",
    (size) => {
      expect(feed(new LogDemuxer({ tty: false }), stream, size)).toEqual(expected);
    },
  );

  it("joins a line that spans frames and splits a frame holding several lines", () => {
    const data = Buffer.concat([
      frame(1, `${T1} first half `),
      frame(1, `second half\n${T2} next\n`),
      frame(2, `${T2} no newline at the end`),
    ]);
    expect(feed(new LogDemuxer({ tty: false }), data, 4)).toEqual([
      { stream: "stdout", text: `${T1} first half second half` },
      { stream: "stdout", text: `${T2} next` },
      { stream: "stderr", text: `${T2} no newline at the end` },
    ]);
  });

  it("keeps a partial line of one stream while the other stream's frames arrive", () => {
    const data = Buffer.concat([frame(1, `${T1} out `), frame(2, `${T1} err line\n`), frame(1, "continues\n")]);
    expect(feed(new LogDemuxer({ tty: false }), data, data.length)).toEqual([
      { stream: "stderr", text: `${T1} err line` },
      { stream: "stdout", text: `${T1} out continues` },
    ]);
  });

  it("handles an empty frame", () => {
    const data = Buffer.concat([frame(1, ""), frame(2, `${T1} x\n`)]);
    expect(feed(new LogDemuxer({ tty: false }), data, 3)).toEqual([{ stream: "stderr", text: `${T1} x` }]);
  });

  it("decodes the most lines service.logs asks for (10 000) arriving as one buffer, in linear time", () => {
    // The non-follow log call hands over the whole answer at once. dockerode's demuxStream
    // recurses once per frame and copies the rest of its buffer per frame: it overflows the
    // stack near 5 000 frames in one chunk, which is why the agent keeps this demuxer.
    const count = 10_000;
    const data = Buffer.concat(
      Array.from({ length: count }, (_, i) => frame(i % 2 === 0 ? 1 : 2, `${T1} line ${i}\n`)),
    );
    const started = performance.now();
    const lines = feed(new LogDemuxer({ tty: false }), data, data.length);
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(lines).toHaveLength(count);
    expect(lines[count - 1]).toEqual({ stream: "stderr", text: `${T1} line ${count - 1}` });
  });
});

describe("LogDemuxer, TTY", () => {
  it("reads plain text as stdout, without looking for headers", () => {
    // Bytes that would be a header in the multiplexed format are just text here.
    const data = Buffer.from(`${T1} \u0002tty line\r\n${T2} second\r\n${T2} partial`, "utf8");
    const lines = feed(new LogDemuxer({ tty: true }), data, 5);
    expect(lines.map((line) => line.stream)).toEqual(["stdout", "stdout", "stdout"]);
    expect(lines.map((line) => toLogEntry(line).message)).toEqual(["\u0002tty line", "second", "partial"]);
  });
});

describe("toLogEntry", () => {
  it("takes Docker's RFC 3339 nano timestamp and the message after it", () => {
    expect(toLogEntry({ stream: "stdout", text: `${T1} Service started successfully` })).toEqual({
      timestamp: T1,
      message: "Service started successfully",
      level: "info",
      stream: "stdout",
    });
    expect(toLogEntry({ stream: "stderr", text: "2025-05-05T12:00:00+02:00 offset time" })).toMatchObject({
      timestamp: "2025-05-05T12:00:00+02:00",
      message: "offset time",
    });
  });

  it("stamps a line without a timestamp with the time it was read", () => {
    const now = new Date("2025-01-01T00:00:00Z");
    expect(toLogEntry({ stream: "stdout", text: "bare" }, () => now)).toMatchObject({
      timestamp: now.toISOString(),
      message: "bare",
    });
  });
});

describe("levelOf", () => {
  it.each([
    ["ERROR bad", "error"],
    ["2025/05/05 10:00:00 WARN disk almost full", "warn"],
    ["WARNING:root:deprecated", "warn"],
    ["[warn] slow request", "warn"],
    ["nginx: 2025/05/05 10:00:00 [error] 1#1: open() failed", "error"],
    ["<DEBUG> cache miss", "debug"],
    ["time=2025-05-05T10:00:00Z level=info msg=ready", "info"],
    ['{"level":"debug","msg":"tick"}', "debug"],
    ['{"severity": "ERROR", "message": "boom"}', "error"],
    ["lvl=warn something", "warn"],
    ["FATAL could not bind", "error"],
    ["TRACE entering", "debug"],
    ["[Notice] config reloaded", "info"],
  ] as const)("%s -> %s", (message, level) => {
    expect(levelOf(message, "stdout")).toBe(level);
  });

  it("prefers an explicit key over words in the message", () => {
    expect(levelOf('level=info msg="ERROR counter reset"', "stderr")).toBe("info");
  });

  it("does not read prose as a level", () => {
    expect(levelOf("no error occurred, all information saved", "stdout")).toBe("info");
    expect(levelOf("TERRORS of the deep", "stdout")).toBe("info");
    expect(levelOf(`${"x".repeat(80)} ERROR late in a long line`, "stdout")).toBe("info");
  });

  it("defaults to info on stdout and warn on stderr", () => {
    expect(levelOf("plain line", "stdout")).toBe("info");
    expect(levelOf("plain line", "stderr")).toBe("warn");
    expect(levelOf("INFO all good", "stderr")).toBe("info");
  });
});
