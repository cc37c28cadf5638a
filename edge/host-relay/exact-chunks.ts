import type { StreamOp } from "../../shared/commands";
import type { LogEntry } from "../../shared/schemas/services";

/**
 * Quick checks for the chunks of the busiest streams, tried before their command's zod chunk
 * schema. workerd forbids code generation, so zod runs its interpreted path there (zod's
 * `allowsEval` is false under Cloudflare): about 0.5 µs per log line on this machine, a quarter
 * of the Durable Object's CPU per line of a busy follow; these checks cost about 0.02 µs.
 *
 * Each accepts only values its schema accepts unchanged, and returns what the schema would
 * return (a fresh object with the schema's keys in its order); anything else, an extra key
 * included, is left to the schema (`undefined`), which still strips or refuses it. So the
 * schema stays the one authority: a quick check can make the answer faster, never different
 * (exact-chunks.test.ts compares the two).
 */
export const EXACT_CHUNKS: Partial<Record<StreamOp, (value: unknown) => unknown>> = {
  "service.logs.follow": exactLogEntry,
};

/** `logEntry`'s keys, in its order (exact-chunks.test.ts holds the two together). */
export const LOG_ENTRY_KEYS = ["timestamp", "message", "level", "stream"] as const;

/** `value` as a log entry when it is a plain object of exactly `logEntry`'s four keys, each valid. */
export function exactLogEntry(value: unknown): LogEntry | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const { timestamp, message, level, stream } = value as Record<string, unknown>;
  if (typeof timestamp !== "string" || typeof message !== "string") return undefined;
  if (level !== "info" && level !== "warn" && level !== "error" && level !== "debug") return undefined;
  if (stream !== "stdout" && stream !== "stderr") return undefined;
  // These four own keys and no other: nothing for the schema to strip.
  if (Object.keys(value).length !== LOG_ENTRY_KEYS.length) return undefined;
  if (!LOG_ENTRY_KEYS.every((key) => Object.hasOwn(value, key))) return undefined;
  return { timestamp, message, level, stream };
}
