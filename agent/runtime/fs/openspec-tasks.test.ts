import { describe, expect, it } from "vitest";
import { countTasks } from "./openspec-tasks";

describe("countTasks", () => {
  it("counts open and checked boxes, either case of x, nested and * bullets", () => {
    const text = [
      "## 1. Setup",
      "- [x] 1.1 one",
      "- [ ] 1.2 two",
      "  - [X] 1.2.1 nested",
      "* [ ] star",
      "- [] not a box",
      "text - [x] not at line start",
      "-[x] no space",
    ].join("\n");
    expect(countTasks(text)).toEqual({ total: 4, done: 2 });
  });

  it("reads CRLF files and empty ones", () => {
    expect(countTasks("- [x] a\r\n- [ ] b\r\n")).toEqual({ total: 2, done: 1 });
    expect(countTasks("")).toEqual({ total: 0, done: 0 });
  });
});
