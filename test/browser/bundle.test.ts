/** The dashboard stays light enough for a phone on a slow link: its first page loads < 100 KB of gzipped JS. */
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { ROOT } from "../support/edge-server";

const DIST = path.join(ROOT, "web", "dist");
const BUDGET_BYTES = 100 * 1024;

describe("the dashboard build (web/dist)", () => {
  it("loads under 100 KB of gzipped JavaScript on its first page", async () => {
    const html = await readFile(path.join(DIST, "index.html"), "utf8");
    const scripts = [...html.matchAll(/<(?:script|link)[^>]+(?:src|href)="\/(assets\/[^"]+\.js)"/g)].map((m) => m[1]);
    expect(scripts.length).toBeGreaterThan(0);
    let total = 0;
    for (const script of scripts) total += gzipSync(await readFile(path.join(DIST, script as string))).length;
    expect(total, `${total} bytes of gzipped JS`).toBeLessThan(BUDGET_BYTES);
  });

  it("ships its security headers, with a CSP that allows no inline script", async () => {
    const headers = await readFile(path.join(DIST, "_headers"), "utf8");
    expect(headers).toMatch(/Content-Security-Policy: default-src 'self'; script-src 'self';/);
    expect(headers).toMatch(/frame-ancestors 'none'/);
    expect(headers).not.toMatch(/unsafe-inline|unsafe-eval/);
    expect(await readdir(DIST)).toContain("index.html");
  });
});
