import { StringDecoder } from "node:string_decoder";
import type { LogEntry } from "../../../shared/schemas/services";

/**
 * Docker's log stream made into log entries. A container without a TTY sends a multiplexed
 * stream: frames of an 8-byte header (byte 0 the stream: 1 stdout, 2 stderr; bytes 4-7 the
 * payload length, big-endian) and the payload. A TTY container sends plain text, all of it
 * stdout. Chunks from the socket cut anywhere, through a header, a frame or a UTF-8
 * character, so everything incomplete is kept until the next chunk.
 *
 * Not dockerode's `modem.demuxStream`: it does decode frames split across chunks, but it
 * recurses once per frame of a chunk and copies the rest of its buffer for each frame, so a
 * whole `service.logs` answer (up to 10 000 frames in one buffer) overflows the stack near
 * 5 000 frames; it also sends stream 0 to stderr and drops a frame cut off at the end.
 */

export type LogStreamName = LogEntry["stream"];
export type LogLevel = LogEntry["level"];

/** One line as Docker wrote it, still with its timestamp prefix. */
export interface RawLogLine {
  stream: LogStreamName;
  text: string;
}

const HEADER_BYTES = 8;
const EMPTY = Buffer.alloc(0);

export class LogDemuxer {
  readonly #tty: boolean;
  #pending: Buffer = EMPTY;
  /** Bytes still owed to the frame being read, and its stream. */
  #frameLeft = 0;
  #frameStream: LogStreamName = "stdout";
  readonly #lines = { stdout: new LineSplitter(), stderr: new LineSplitter() };

  constructor(options: { tty: boolean }) {
    this.#tty = options.tty;
  }

  /**
   * Feeds one chunk; returns the lines it completed, in order. Walks the chunk by offset
   * rather than slicing it: a Buffer view per header and per payload was a third of the
   * garbage a busy follow made (Docker sends one frame per line).
   */
  push(chunk: Buffer): RawLogLine[] {
    const out: RawLogLine[] = [];
    if (this.#tty) {
      this.#lines.stdout.push(chunk, 0, chunk.length, "stdout", out);
      return out;
    }
    const data = this.#pending.length > 0 ? Buffer.concat([this.#pending, chunk]) : chunk;
    this.#pending = EMPTY;
    let at = 0;
    while (at < data.length) {
      if (this.#frameLeft === 0) {
        if (data.length - at < HEADER_BYTES) {
          this.#pending = Buffer.from(data.subarray(at));
          break;
        }
        // Stream 0 (stdin echoed back) is shown as stdout; 2 and anything newer as stderr.
        this.#frameStream = (data[at] ?? 0) <= 1 ? "stdout" : "stderr";
        this.#frameLeft = data.readUInt32BE(at + 4);
        at += HEADER_BYTES;
        continue;
      }
      const take = Math.min(this.#frameLeft, data.length - at);
      this.#lines[this.#frameStream].push(data, at, at + take, this.#frameStream, out);
      this.#frameLeft -= take;
      at += take;
    }
    return out;
  }

  /** The stream ended: whatever is left without a newline is a last line. */
  end(): RawLogLine[] {
    return [...this.#lines.stdout.end("stdout"), ...this.#lines.stderr.end("stderr")];
  }
}

const NEWLINE = 0x0a;

/** Splits one stream's bytes into lines without breaking a multi-byte character. */
class LineSplitter {
  readonly #decoder = new StringDecoder("utf8");
  #partial = "";
  /** The last bytes ended a line: nothing is pending, in the decoder or in `#partial`. */
  #clean = true;

  /** Appends the lines that `bytes[start, end)` completes to `out`. */
  push(bytes: Buffer, start: number, end: number, stream: LogStreamName, out: RawLogLine[]): void {
    if (start >= end) return;
    const endsLine = bytes[end - 1] === NEWLINE;
    // Docker sends each line as a frame of its own: from a clean start, a frame that ends
    // its line is decoded on its own, without the decoder, the carry-over or a split.
    if (this.#clean && endsLine) {
      const text = bytes.toString("utf8", start, end - 1);
      if (!text.includes("\n")) {
        out.push({ stream, text });
        return;
      }
    }
    const parts = (this.#partial + this.#decoder.write(bytes.subarray(start, end))).split("\n");
    this.#partial = parts.pop() ?? "";
    for (const text of parts) out.push({ stream, text });
    this.#clean = endsLine;
  }

  end(stream: LogStreamName): RawLogLine[] {
    const rest = this.#partial + this.#decoder.end();
    this.#partial = "";
    this.#clean = true;
    return rest.length > 0 ? [{ stream, text: rest }] : [];
  }
}

/** Docker's `timestamps: true` prefix: RFC 3339 with nanoseconds, then one space. */
const TIMESTAMP_PREFIX = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})) ?/;

/**
 * A raw line as an API log entry. The timestamp is Docker's own (RFC 3339, nanoseconds
 * kept so a client can ask `since` the last line it saw); a line without one, which only a
 * caller that did not ask for timestamps produces, is stamped with the time it was read.
 */
export function toLogEntry(line: RawLogLine, now: () => Date = () => new Date()): LogEntry {
  const match = TIMESTAMP_PREFIX.exec(line.text);
  const rest = match ? line.text.slice(match[0].length) : line.text;
  // A TTY turns \n into \r\n.
  const message = rest.endsWith("\r") ? rest.slice(0, -1) : rest;
  return {
    timestamp: match?.[1] ?? now().toISOString(),
    message,
    level: levelOf(message, line.stream),
    stream: line.stream,
  };
}

const LEVEL_WORDS: Record<string, LogLevel> = {
  fatal: "error",
  panic: "error",
  emerg: "error",
  emergency: "error",
  alert: "error",
  crit: "error",
  critical: "error",
  severe: "error",
  err: "error",
  error: "error",
  warn: "warn",
  warning: "warn",
  info: "info",
  notice: "info",
  information: "info",
  debug: "debug",
  trace: "debug",
  verbose: "debug",
};
const WORDS = Object.keys(LEVEL_WORDS).join("|");
/** `level=info`, `lvl: warn`, `"level":"debug"`, `severity=ERROR`: logfmt, JSON, YAML-ish. */
const KEYED = new RegExp(`["']?\\b(?:level|lvl|severity|loglevel)["']?\\s*[=:]\\s*["']?(${WORDS})\\b`, "i");
/** `[warn]`, `<ERROR>`, `(debug)`: nginx, many Java and Python formats. */
const BRACKETED = new RegExp(`[[<(]\\s*(${WORDS})\\s*[\\]>)]`, "i");
/** A bare level word, upper case only (`ERROR bad`, `WARNING:root:`), so prose like "no error" is not one. */
const BARE = new RegExp(`(?:^|[^A-Za-z])(${WORDS.toUpperCase()})(?![A-Za-z])`);
/** Bare words count only near the start of a line, where loggers put them. */
const BARE_WINDOW = 64;

/**
 * The level a line says it has: a keyed marker anywhere, else a bracketed one, else a bare
 * upper-case word in the first 64 characters. A line that says none is `info` on stdout
 * and `warn` on stderr: programs write diagnostics to stderr that are not all errors (many
 * log everything there), so calling them all errors would cry wolf.
 */
export function levelOf(message: string, stream: LogStreamName): LogLevel {
  const word =
    KEYED.exec(message)?.[1] ?? BRACKETED.exec(message)?.[1] ?? BARE.exec(message.slice(0, BARE_WINDOW))?.[1];
  const level = word ? LEVEL_WORDS[word.toLowerCase()] : undefined;
  return level ?? (stream === "stderr" ? "warn" : "info");
}
