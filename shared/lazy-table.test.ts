import { describe, expect, it } from "vitest";
import { COMMANDS, isOp, isStreamOp, OPS } from "./commands";
import { lazyTable } from "./lazy-table";

describe("lazyTable", () => {
  it("builds a value on its first read only, and hands back the same one after", () => {
    const built: string[] = [];
    const table = lazyTable({
      a: () => {
        built.push("a");
        return { name: "a" };
      },
      b: () => {
        built.push("b");
        return { name: "b" };
      },
    });
    expect(built).toEqual([]);
    const first = table.a;
    expect(table.a).toBe(first);
    expect(built).toEqual(["a"]);
  });

  it("shows every key from the start, as a plain object does", () => {
    const table = lazyTable({ a: () => 1, b: () => 2 });
    expect(Object.keys(table)).toEqual(["a", "b"]);
    expect("b" in table && Object.hasOwn(table, "b")).toBe(true);
    expect(Object.hasOwn(table, "c")).toBe(false);
    expect({ ...table }).toEqual({ a: 1, b: 2 });
  });
});

describe("the command table", () => {
  it("lists every command and tells stream commands apart, whether or not their schemas were built", () => {
    expect(OPS).toContain("ping");
    expect(isOp("ping") && isOp("service.logs.follow") && !isOp("toString")).toBe(true);
    expect(isStreamOp("service.logs.follow")).toBe(true);
    expect(isStreamOp("ping")).toBe(false);
    expect(COMMANDS.ping.params.safeParse({}).success).toBe(true);
    expect(COMMANDS.ping.params.safeParse({ extra: 1 }).success).toBe(false);
  });
});
