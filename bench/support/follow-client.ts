import WebSocket from "ws";
import { decodeStreamFrame, type StreamFrame } from "../../shared/stream-frames";

/**
 * Reads a stream of `{type:"chunk", seq, data:{message}}` frames (or `chunks` frames of
 * several lines, `frames=batch`) whose messages count 1..N (after any number of non-numeric
 * lines), checking that nothing is lost or reordered: `seq` must go up by one from line to
 * line and the numbers must be 1, 2, 3, … N. The rate is taken from the first numeric line
 * to the Nth, on this side.
 */

export interface FollowResult {
  /** Numeric lines received. */
  received: number;
  /** Frames that carried them (as many as lines unless batched). */
  frames: number;
  /** Lines whose seq did not follow the previous one. */
  seqGaps: number;
  /** Numbers that did not follow the previous one (a line lost, repeated or out of order). */
  outOfOrder: number;
  firstAt: number;
  lastAt: number;
  /** Lines per second (one frame per line unless batched). */
  framesPerSecond: number;
  meanFrameBytes: number;
  /** One numeric frame as received, parsed: the baseline sends frames shaped like it. */
  sample: unknown;
  complete: boolean;
  /** WebSocket extensions the server accepted (permessage-deflate costs CPU per frame on both ends). */
  extensions: string;
}

export function followCount(
  url: string,
  options: {
    headers?: Record<string, string>;
    expected: number;
    timeoutMs: number;
    onNonNumeric?: (message: string) => void;
    onFirst?: () => void;
    onLast?: () => void;
  },
): Promise<FollowResult> {
  return new Promise((resolve, reject) => {
    // No permessage-deflate offer, as the baseline's server uses none: Kai's edge declines it,
    // but wrangler's local dev proxy in front of it would negotiate it on its own.
    const socket = new WebSocket(url, {
      headers: options.headers ?? {},
      maxPayload: 16 * 1024 * 1024,
      perMessageDeflate: false,
    });
    const result: FollowResult = {
      received: 0,
      frames: 0,
      seqGaps: 0,
      outOfOrder: 0,
      firstAt: 0,
      lastAt: 0,
      framesPerSecond: 0,
      meanFrameBytes: 0,
      sample: undefined,
      complete: false,
      extensions: "",
    };
    let lastSeq: number | undefined;
    let lastNumber = 0;
    let bytes = 0;
    let firstFrameLines = 0;
    let settled = false;
    const finish = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const seconds = (result.lastAt - result.firstAt) / 1000;
      // Lines after the first frame's, over the time from it to the last: the first frame's
      // lines (512 when batched) arrived at no cost and must not count.
      result.framesPerSecond = seconds > 0 ? (result.received - firstFrameLines) / seconds : 0;
      result.meanFrameBytes = bytes / Math.max(1, result.frames);
      result.complete = result.received === options.expected;
      socket.terminate();
      resolve(result);
    };
    const timer = setTimeout(finish, options.timeoutMs);
    socket.on("unexpected-response", (_request, response) => {
      settled = true;
      clearTimeout(timer);
      reject(new Error(`the stream was refused: HTTP ${response.statusCode}`));
    });
    socket.on("error", (error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(error);
    });
    socket.on("close", finish);
    socket.on("open", () => {
      result.extensions = socket.extensions;
    });
    socket.on("message", (raw) => {
      const at = performance.now();
      const text = raw.toString();
      let frame: StreamFrame<"service.logs.follow">;
      try {
        // Read as any client reads a log follow (shared/stream-frames.ts), schema check included.
        frame = decodeStreamFrame("service.logs.follow", text);
      } catch {
        return;
      }
      if (frame.type !== "chunk" && frame.type !== "chunks") return finish();
      const entries = frame.type === "chunks" ? frame.data : [frame.data];
      let numeric = false;
      for (const [index, entry] of entries.entries()) {
        const seq = frame.seq + index;
        if (lastSeq !== undefined && seq !== lastSeq + 1) result.seqGaps += 1;
        lastSeq = seq;
        const message = entry.message.trim();
        if (!/^\d+$/.test(message)) {
          options.onNonNumeric?.(message);
          continue;
        }
        numeric = true;
        if (result.received === 0) {
          result.firstAt = at;
          result.sample = frame;
          options.onFirst?.();
        }
        if (at === result.firstAt) firstFrameLines += 1;
        result.received += 1;
        if (Number(message) !== lastNumber + 1) result.outOfOrder += 1;
        lastNumber = Number(message);
        result.lastAt = at;
      }
      if (numeric) {
        result.frames += 1;
        bytes += text.length;
      }
      if (result.received >= options.expected) {
        options.onLast?.();
        finish();
      }
    });
  });
}
