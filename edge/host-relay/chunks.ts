import { COMMANDS, isStreamOp } from "../../shared/commands";

/** One chunk of a stream with its number, checked against its command's chunk schema. */
export interface CheckedChunk {
  seq: number;
  data: unknown;
}

/**
 * The chunks of one `chunk`/`chunks` frame (the first numbered `seq`) that match `op`'s chunk
 * schema. The one check for both paths a chunk can take: to a live viewer, or collected for
 * the command's reply. A chunk that does not match is dropped (and logged), never forwarded.
 */
export function checkChunks(op: string, requestId: string, seq: number, values: readonly unknown[]): CheckedChunk[] {
  if (!isStreamOp(op)) return [];
  const schema = COMMANDS[op].chunk;
  const checked: CheckedChunk[] = [];
  let dropped = 0;
  values.forEach((data, index) => {
    const parsed = schema.safeParse(data);
    if (parsed.success) checked.push({ seq: seq + index, data: parsed.data });
    else dropped += 1;
  });
  if (dropped) {
    console.error(`relay: ${op} (request ${requestId}) sent ${dropped} chunk(s) that do not match its schema; dropped`);
  }
  return checked;
}
