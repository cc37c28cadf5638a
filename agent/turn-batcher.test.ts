import { describe, expect, it } from "vitest";
import { TurnBatcher } from "./turn-batcher";

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

function recorder(limits = { maxItems: 3, maxChars: 10 }) {
  const batches: string[][] = [];
  const batcher = new TurnBatcher<string>((items) => batches.push(items), limits);
  const push = (item: string) => batcher.push(item, item.length);
  return { batches, batcher, push };
}

describe("TurnBatcher", () => {
  it("hands over what one turn of the event loop gathered, together, at the end of that turn", async () => {
    const { batches, push } = recorder();
    push("a");
    push("b");
    expect(batches).toEqual([]);
    await nextTurn();
    push("c");
    await nextTurn();
    expect(batches).toEqual([["a", "b"], ["c"]]);
  });

  it("hands over early before an item would pass the count or size bound, keeping the order", async () => {
    const { batches, push } = recorder();
    for (const item of ["1", "2", "3", "4"]) push(item);
    push("xxxxxxxxxx"); // 1 + 10 chars > 10
    push("yy");
    await nextTurn();
    expect(batches).toEqual([["1", "2", "3"], ["4"], ["xxxxxxxxxx"], ["yy"]]);
  });

  it("takes an item larger than the size bound alone rather than dropping it", async () => {
    const { batches, push } = recorder();
    push("a");
    push("x".repeat(50));
    push("b");
    await nextTurn();
    expect(batches).toEqual([["a"], ["x".repeat(50)], ["b"]]);
  });

  it("flushes on demand, and drops what it holds on discard", async () => {
    const { batches, batcher, push } = recorder();
    push("kept");
    batcher.flush();
    expect(batches).toEqual([["kept"]]);
    batcher.flush();
    push("dropped");
    batcher.discard();
    await nextTurn();
    expect(batches).toEqual([["kept"]]);
  });
});
