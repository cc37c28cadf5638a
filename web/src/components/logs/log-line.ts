import Anser from "anser";
import type { LogEntry } from "../../../../shared/schemas/services";

/** One received log line as the viewer keeps it: the entry, a running number and its text for search. */
export interface LogLine {
  /** 0 for the first line this page received, then +1 per line (stays unique when old lines are dropped). */
  id: number;
  timestamp: string;
  /** The raw message, ANSI escapes included (rendered by `ansiSpans`). */
  message: string;
  level: LogEntry["level"];
  stream: LogEntry["stream"];
  /** The message without ANSI escapes: what search matches, what a download writes. */
  text: string;
  /** `text` lower-cased once, so a search over 50,000 lines does not lower-case them per keystroke. */
  folded: string;
}

/** The viewer's line for `entry`, the `id`th line received. */
export function toLogLine(entry: LogEntry, id: number): LogLine {
  const text = entry.message.includes("\u001b") ? Anser.ansiToText(entry.message) : entry.message;
  return { id, ...entry, text, folded: text.toLowerCase() };
}

/** The lines as a .log file: one line each, `timestamp stream message`, without colours. */
export function toLogText(lines: Iterable<LogLine>): string {
  let out = "";
  for (const line of lines) out += `${line.timestamp} ${line.stream} ${line.text}\n`;
  return out;
}
