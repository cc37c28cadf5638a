import { REPLIES } from "../../shared/command-replies";
import { isStreamOp } from "../../shared/commands";
import { EXACT_CHUNKS } from "./exact-chunks";

/** One chunk of a stream with its number, checked against its command's chunk schema. */
export interface CheckedChunk {
  seq: number;
  data: unknown;
}

/**
 * The chunks of one `chunk`/`chunks` frame (the first numbered `seq`) that match `op`'s chunk
 * schema. The one check for both paths a chunk can take: to a live viewer, or collected for
 * the command's reply. A chunk that does not match is dropped (and logged), never forwarded.
 * A busy stream's chunks that are exactly of their shape pass a quick check first (exact-chunks.ts).
 */
export function checkChunks(op: string, requestId: string, seq: number, values: readonly unknown[]): CheckedChunk[] {
  if (!isStreamOp(op)) return [];
  const schema = REPLIES[op].chunk;
  const exact = EXACT_CHUNKS[op];
  const checked: CheckedChunk[] = [];
  let dropped = 0;
  values.forEach((data, index) => {
    const quick = exact?.(data);
    if (quick !== undefined) {
      checked.push({ seq: seq + index, data: quick });
      return;
    }
    const parsed = schema.safeParse(data);
    if (parsed.success) checked.push({ seq: seq + index, data: parsed.data });
    else dropped += 1;
  });
  if (dropped) {
    console.error(`relay: ${op} (request ${requestId}) sent ${dropped} chunk(s) that do not match its schema; dropped`);
  }
  return checked;
}
