import { z } from "zod";
import { type ChunkOf, REPLIES, type ResultOf } from "./command-replies";
import { isStreamOp, type StreamOp } from "./commands";
import { type WireError, wireErrorSchema } from "./errors";

/**
 * What a client receives on the WebSocket of a streamed command (a log follow, a script's
 * output, the workspace watcher): JSON text frames, sent by the host's Durable Object
 * (edge/host-relay/viewers.ts) and read by any client (tests, bench, the dashboard).
 *
 * - `chunk`: one item of the stream, numbered from 0 (`seq`), in order and without gaps
 *   except where the edge dropped an item that failed its command's chunk schema;
 * - `chunks`: consecutive items `seq`, `seq + 1`, … in one frame, for a viewer that asked
 *   for batched frames (`frames=batch`); otherwise the same stream, numbered the same way;
 * - `end`: the command's result; the socket then closes with 1000;
 * - `error`: why the stream stopped (the agent failed or left, the credential was revoked);
 *   the socket then closes.
 *
 * A command marked `viewer: "raw"` (workspace.watch) sends each chunk's data as the frame
 * itself (its documented `file_changed` / `system_stats` shapes), not wrapped in `chunk`;
 * `end` and `error` are the same for every command.
 */
const streamChunkFrame = z.object({ type: z.literal("chunk"), seq: z.number().int().min(0), data: z.unknown() });
const streamChunksFrame = z.object({
  type: z.literal("chunks"),
  seq: z.number().int().min(0),
  data: z.array(z.unknown()),
});
const streamEndFrame = z.object({ type: z.literal("end"), result: z.unknown() });
const streamErrorFrame = z.object({ type: z.literal("error"), error: wireErrorSchema });
const streamFrame = z.discriminatedUnion("type", [
  streamChunkFrame,
  streamChunksFrame,
  streamEndFrame,
  streamErrorFrame,
]);

/** Any stream's frame, with its chunk data and result unchecked (what the edge forwards, already checked). */
export type WireStreamFrame = z.infer<typeof streamFrame>;

/** The frames of one command's stream, typed by its chunk and result schemas. */
export type StreamFrame<O extends StreamOp = StreamOp> =
  | { type: "chunk"; seq: number; data: ChunkOf<O> }
  | { type: "chunks"; seq: number; data: ChunkOf<O>[] }
  | { type: "end"; result: ResultOf<O> }
  | { type: "error"; error: WireError };

/** Whether `op`'s viewers get each chunk's data as the frame itself, unwrapped. */
function isRawStream(op: string): boolean {
  if (!isStreamOp(op)) return false;
  const reply = REPLIES[op];
  return "viewer" in reply && reply.viewer === "raw";
}

/**
 * The text of one frame for a viewer of `op`. The only place that shapes these frames: a raw
 * stream's chunk is its data alone (no `seq`: its events stand on their own).
 */
export function encodeStreamFrame(op: string, frame: WireStreamFrame): string {
  if (frame.type === "chunk" && isRawStream(op)) return JSON.stringify(frame.data);
  return JSON.stringify(frame);
}

/**
 * Reads one frame a client received for `op`, checked against the command's schemas; a raw
 * stream's event comes back as a `chunk` (without a meaningful `seq`: -1). Throws on
 * anything else, so a client never guesses at a frame it does not understand.
 */
export function decodeStreamFrame<O extends StreamOp>(op: O, text: string): StreamFrame<O> {
  const value: unknown = JSON.parse(text);
  const reply = REPLIES[op];
  const envelope = streamFrame.safeParse(value);
  if (envelope.success && envelope.data.type === "error") return envelope.data;
  if (envelope.success && envelope.data.type === "end") {
    return { type: "end", result: reply.result.parse(envelope.data.result) as ResultOf<O> };
  }
  if (isRawStream(op)) return { type: "chunk", seq: -1, data: reply.chunk.parse(value) as ChunkOf<O> };
  if (envelope.success && envelope.data.type === "chunk") {
    return { type: "chunk", seq: envelope.data.seq, data: reply.chunk.parse(envelope.data.data) as ChunkOf<O> };
  }
  if (envelope.success && envelope.data.type === "chunks") {
    const data = envelope.data.data.map((item) => reply.chunk.parse(item) as ChunkOf<O>);
    return { type: "chunks", seq: envelope.data.seq, data };
  }
  throw new Error(`not a frame of the ${op} stream: ${text.slice(0, 200)}`);
}
