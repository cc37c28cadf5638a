import { isoTime } from "./runtime/iso-time";

/**
 * The agent's log: one line per event on stderr, `time level message key=value…`, so a
 * request id from the edge's audit log can be grepped straight out of it.
 */
export type Level = "debug" | "info" | "warn" | "error";

export type Logger = (
  level: Level,
  message: string,
  fields?: Record<string, string | number | boolean | undefined>,
) => void;

function format(value: string | number | boolean): string {
  const text = String(value);
  return /[\s"=]/.test(text) ? JSON.stringify(text) : text;
}

export function createLogger(
  write: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
  minLevel: Level = "info",
): Logger {
  const order: Level[] = ["debug", "info", "warn", "error"];
  return (level, message, fields = {}) => {
    if (order.indexOf(level) < order.indexOf(minLevel)) return;
    const pairs = Object.entries(fields)
      .filter((entry): entry is [string, string | number | boolean] => entry[1] !== undefined)
      .map(([key, value]) => `${key}=${format(value)}`);
    write([isoTime(Date.now()), level.toUpperCase().padEnd(5), message, ...pairs].join(" "));
  };
}
