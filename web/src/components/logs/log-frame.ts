import type { WireError } from "../../../../shared/errors";
import type { LogEntry } from "../../../../shared/schemas/services";

/**
 * A frame of the log follow stream as the viewer uses it (shapes: shared/stream-frames.ts and
 * the `service.logs.follow` chunk in shared/command-replies.ts). web/ takes only types from shared/,
 * so the fields are checked here by hand; anything else is `undefined` and ignored.
 */
export type LogFrame =
  | { type: "chunk"; seq: number; entry: LogEntry }
  | { type: "end"; ended: string }
  | { type: "error"; error: WireError };

const LEVELS = new Set(["error", "warn", "info", "debug"]);
const STREAMS = new Set(["stdout", "stderr"]);

export function readLogFrame(text: string): LogFrame | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isRecord(value)) return undefined;
  if (value.type === "chunk" && typeof value.seq === "number" && isLogEntry(value.data)) {
    return { type: "chunk", seq: value.seq, entry: value.data };
  }
  if (value.type === "end") {
    const ended = isRecord(value.result) && typeof value.result.ended === "string" ? value.result.ended : "ended";
    return { type: "end", ended };
  }
  if (value.type === "error" && isRecord(value.error) && typeof value.error.code === "string") {
    const message = typeof value.error.message === "string" ? value.error.message : value.error.code;
    return { type: "error", error: { code: value.error.code, message } as WireError };
  }
  return undefined;
}

function isLogEntry(value: unknown): value is LogEntry {
  return (
    isRecord(value) &&
    typeof value.timestamp === "string" &&
    typeof value.message === "string" &&
    typeof value.level === "string" &&
    LEVELS.has(value.level) &&
    typeof value.stream === "string" &&
    STREAMS.has(value.stream)
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}
