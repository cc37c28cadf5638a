import { describe, expect, it, vi } from "vitest";
import { type ChunkFrame, type ChunksFrame, MAX_FRAME_BYTES } from "../shared/protocol";
import { ChunkBatcher, HOLD_MS, MAX_BATCH_ITEMS } from "./chunk-batcher";

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

function recorder(batching = true) {
  const frames: (ChunkFrame | ChunksFrame)[] = [];
  const batcher = new ChunkBatcher("request-1", (text) => frames.push(JSON.parse(text)), batching);
  return { frames, batcher };
}

describe("ChunkBatcher", () => {
  it("sends the chunks of one turn of the event loop as one frame, numbered from the first", async () => {
    const { frames, batcher } = recorder();
    for (let n = 0; n < 3; n++) batcher.push(`a${n}`);
    expect(frames).toEqual([]);
    await nextTurn();
    batcher.push("b0");
    // Held until HOLD_MS after the first frame (a timer due later fires after it).
    await new Promise((resolve) => setTimeout(resolve, HOLD_MS + 5));
    expect(frames).toEqual([
      { type: "chunks", id: "request-1", seq: 0, data: ["a0", "a1", "a2"] },
      { type: "chunk", id: "request-1", seq: 3, data: "b0" },
    ]);
  });

  it("writes a batch's text exactly as JSON.stringify writes the frame", async () => {
    const texts: string[] = [];
    const batcher = new ChunkBatcher('request "2"', (text) => texts.push(text), true);
    const items = [{ message: 'q"uote\n\u2028', gone: undefined }, "ü", 1.5, null, undefined, [1, { a: 2 }]];
    for (const item of items) batcher.push(item);
    await nextTurn();
    expect(texts).toEqual([JSON.stringify({ type: "chunks", id: 'request "2"', seq: 0, data: items })]);
  });

  it("sends each chunk alone when the edge is older than batches", () => {
    const { frames, batcher } = recorder(false);
    batcher.push({ n: 1 });
    batcher.push({ n: 2 });
    expect(frames).toEqual([
      { type: "chunk", id: "request-1", seq: 0, data: { n: 1 } },
      { type: "chunk", id: "request-1", seq: 1, data: { n: 2 } },
    ]);
  });

  it("keeps every frame under the frame limit and at most MAX_BATCH_ITEMS chunks, losing nothing", async () => {
    const { frames, batcher } = recorder();
    const big = "x".repeat(300 * 1024);
    for (let n = 0; n < 5; n++) batcher.push(big);
    const small = 2 * MAX_BATCH_ITEMS + 10;
    for (let n = 0; n < small; n++) batcher.push(n);
    await nextTurn();
    // What a full frame left behind may be held for HOLD_MS; the stream's answer flushes it.
    batcher.flush();
    for (const frame of frames) expect(JSON.stringify(frame).length).toBeLessThanOrEqual(MAX_FRAME_BYTES);
    expect(Math.max(...frames.map((frame) => (frame.type === "chunks" ? frame.data.length : 1)))).toBeLessThanOrEqual(
      MAX_BATCH_ITEMS,
    );
    const flat = frames.flatMap((frame) =>
      frame.type === "chunks"
        ? frame.data.map((data, index) => ({ seq: frame.seq + index, data }))
        : [{ seq: frame.seq, data: frame.data }],
    );
    expect(flat.map((item) => item.seq)).toEqual([...Array(small + 5).keys()]);
    expect(flat.slice(5).map((item) => item.data)).toEqual([...Array(small).keys()]);
  });

  it("gathers the chunks that follow a frame within HOLD_MS into one frame; after a quiet spell, does not wait", () => {
    vi.useFakeTimers({ toFake: ["setImmediate", "clearImmediate", "setTimeout", "clearTimeout", "performance"] });
    try {
      const { frames, batcher } = recorder();
      // A lone chunk of a stream that was quiet goes at the end of its turn.
      batcher.push(0);
      vi.advanceTimersByTime(0);
      expect(frames).toEqual([{ type: "chunk", id: "request-1", seq: 0, data: 0 }]);
      // A busy stream: the chunks of the next turns wait for each other, a few at a time as
      // Docker's reads come when the agent keeps up, until HOLD_MS after the last frame.
      for (let n = 1; n <= 9; n++) {
        batcher.push(n);
        vi.advanceTimersByTime(0);
      }
      expect(frames).toHaveLength(1);
      vi.advanceTimersByTime(HOLD_MS - 1);
      expect(frames).toHaveLength(1);
      vi.advanceTimersByTime(1);
      expect(frames.slice(1)).toEqual([{ type: "chunks", id: "request-1", seq: 1, data: [1, 2, 3, 4, 5, 6, 7, 8, 9] }]);
      // HOLD_MS after that frame, the stream is quiet again: a lone chunk goes at the end of its turn.
      vi.advanceTimersByTime(HOLD_MS);
      batcher.push(10);
      vi.advanceTimersByTime(0);
      expect(frames.slice(2)).toEqual([{ type: "chunk", id: "request-1", seq: 10, data: 10 }]);
    } finally {
      vi.useRealTimers();
    }
  });

  it("sends what it holds on flush, and nothing after a discard", async () => {
    const { frames, batcher } = recorder();
    batcher.push("kept");
    batcher.flush();
    expect(frames).toHaveLength(1);
    batcher.push("dropped");
    batcher.discard();
    await nextTurn();
    expect(frames).toHaveLength(1);
  });
});
