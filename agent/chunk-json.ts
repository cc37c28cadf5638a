import type { ChunkOf } from "../shared/command-replies";
import { isStreamOp, type StreamOp } from "../shared/commands";
import type { LogEntry } from "../shared/schemas/services";

/**
 * The JSON text of one chunk of the busiest streams, written without JSON.stringify's walk of
 * the object: on Node 20 that walk cost about 0.6 µs per log line of a busy follow, twice
 * this (measured with the entries of `busybox seq`). Each writes what JSON.stringify writes for
 * its chunk type (chunk-json.test.ts); any other stream's chunks are stringified.
 */
const CHUNK_JSON: { [O in StreamOp]?: (chunk: ChunkOf<O>) => string } = {
  "service.logs.follow": logEntryJson,
};

/** The writer of `op`'s chunks, for ChunkBatcher; undefined when JSON.stringify does. */
export function chunkJsonOf(op: string): ((chunk: unknown) => string) | undefined {
  // The handler's `emit` is typed by the same command's chunk schema, so its chunks are ChunkOf<op>.
  return isStreamOp(op) ? (CHUNK_JSON[op] as ((chunk: unknown) => string) | undefined) : undefined;
}

const ENUM_WORDS = new Set<unknown>(["error", "warn", "info", "debug", "stdout", "stderr"]);

/**
 * `level` and `stream` are words JSON needs no escape for, so only the two free strings go
 * through JSON.stringify. An entry that is not as typed (it cannot be, from toLogEntry) is
 * stringified whole rather than written wrong.
 */
export function logEntryJson(entry: LogEntry): string {
  const { timestamp, message, level, stream } = entry;
  if (typeof timestamp !== "string" || typeof message !== "string" || !ENUM_WORDS.has(level) || !ENUM_WORDS.has(stream))
    return JSON.stringify(entry);
  return `{"timestamp":${JSON.stringify(timestamp)},"message":${JSON.stringify(message)},"level":"${level}","stream":"${stream}"}`;
}
