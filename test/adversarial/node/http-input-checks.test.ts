import { describe, expect, it } from "vitest";
import { fromBase64Strict, toBase64 } from "../../../edge/identity/crypto";
import { attachmentDisposition, servedType } from "../../../edge/workspaces/download";
import { jsonNesting, MAX_JSON_DEPTH } from "../../../shared/json-depth";

describe("jsonNesting", () => {
  it("counts objects and arrays, not brackets inside strings or escaped quotes", () => {
    expect(jsonNesting("1")).toBe(0);
    expect(jsonNesting('{"a":[1,{"b":2}]}')).toBe(3);
    expect(jsonNesting('{"a":"[[[[{{{{"}')).toBe(1);
    expect(jsonNesting('{"a":"\\"[[[[\\\\"}')).toBe(1);
    expect(jsonNesting('["\\\\",[[]]]')).toBe(3);
  });

  it("measures 200,000 levels without recursion, and stops early past a limit", () => {
    const deep = "[".repeat(200_000) + "]".repeat(200_000);
    expect(jsonNesting(deep)).toBe(200_000);
    expect(jsonNesting(deep, MAX_JSON_DEPTH)).toBe(MAX_JSON_DEPTH + 1);
  });
});

describe("fromBase64Strict", () => {
  it("decodes what toBase64 encodes, every padding length", () => {
    for (const length of [0, 1, 2, 3, 4, 100]) {
      const bytes = Uint8Array.from({ length }, (_, i) => (i * 53) % 256);
      expect(fromBase64Strict(toBase64(bytes))).toEqual(bytes);
    }
  });

  it.each(["abc", "a===", "ab=c", "YQ==YQ==", "Y Q==", "YQ==\n", "YW-_", "é123"])("refuses %j", (text) => {
    expect(fromBase64Strict(text)).toBeUndefined();
  });
});

describe("served file types", () => {
  it.each([
    ["text/html; charset=utf-8", false, "text/plain; charset=utf-8"],
    ["image/svg+xml; charset=utf-8", false, "text/plain; charset=utf-8"],
    ["application/xml; charset=utf-8", false, "text/plain; charset=utf-8"],
    ["application/xhtml+xml", false, "text/plain; charset=utf-8"],
    ["text/javascript; charset=utf-8", false, "text/plain; charset=utf-8"],
    ["application/pdf", true, "application/octet-stream"],
    ["text/html", true, "application/octet-stream"],
    ["image/png", true, "image/png"],
    ["text/markdown; charset=utf-8", false, "text/markdown; charset=utf-8"],
  ])("serves %s (binary %s) as %s", (contentType, binary, expected) => {
    expect(servedType({ contentType, binary })).toBe(expected);
  });

  it("names attachments with an ASCII fallback and the exact RFC 8187 name", () => {
    expect(attachmentDisposition("docs/a b.txt")).toBe(`attachment; filename="a b.txt"; filename*=UTF-8''a%20b.txt`);
    expect(attachmentDisposition("x/\u65e5\u672c'(1)*.md")).toBe(
      `attachment; filename="__'(1)*.md"; filename*=UTF-8''%E6%97%A5%E6%9C%AC%27%281%29%2A.md`,
    );
    expect(attachmentDisposition('q"\\%\r\n.txt')).toBe(
      `attachment; filename="q_____.txt"; filename*=UTF-8''q%22%5C%25%0D%0A.txt`,
    );
  });
});
