/**
 * The log viewer in a real Chromium against the real Worker, a real kai-agent and a real Docker
 * engine: a busybox container whose stdout and stderr are fed by `docker exec`, followed live
 * at /logs/:host/:id. Every step is checked at 390 px and 1280 px (test/support/browser.ts).
 */
import { mkdtemp, readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgentProcess } from "../support/agent-process";
import { CheckedPage, launchBrowser, signIn } from "../support/browser";
import { type Edge, startEdge } from "../support/edge-server";
import { enrollHost, type Session, signUp } from "../support/kai-client";
import { type ServiceWorld, serviceWorld } from "../support/service-world";

let edge: Edge;
let browser: Browser;
let tab: CheckedPage;
let world: ServiceWorld;
let agent: AgentProcess;
let session: Session;
let hostName: string;
let containerId: string;
let containerName: string;

/** Appends `script`'s output to the container's stdout (`out`) or stderr (`err`) feed. */
const feed = (script: string, to: "out" | "err" = "out") => world.exec(containerId, `{ ${script} ; } >> /tmp/${to}`);

beforeAll(async () => {
  [edge, browser, world] = await Promise.all([startEdge(), launchBrowser(), serviceWorld("weblogs")]);
  session = await signUp(edge.url);
  const host = await enrollHost(session);
  hostName = host.name;
  agent = new AgentProcess(edge.url, host.token, [await mkdtemp(path.join(os.tmpdir(), "kai-web-logs-"))]);
  await agent.start();
  await agent.connected();
  // The container's own output is whatever lands in /tmp/out and /tmp/err (busybox tail -F).
  const info = await world.container({
    Cmd: ["/bin/sh", "-c", "mkdir -p /tmp && touch /tmp/out /tmp/err; tail -F /tmp/err >&2 & exec tail -F /tmp/out"],
  });
  containerId = info.Id;
  containerName = info.Name.replace(/^\//, "");
  await feed('for i in $(seq 1 100); do echo "hello $i"; done');
  tab = await CheckedPage.open(browser, edge.url, "logs");
});
afterAll(async () => {
  await tab?.close();
  await browser?.close();
  await agent?.stop();
  await world?.cleanup();
  await edge?.stop();
});

/**
 * How many different colours a PNG has, counted by Chromium itself on a blank page (no CSP
 * there). The code runs in the page, so it is a string: Node's types have no canvas.
 */
async function distinctColours(png: Buffer): Promise<number> {
  const blank = await tab.context.newPage();
  try {
    const count = await blank.evaluate(`(async () => {
      const bytes = Uint8Array.from(atob("${png.toString("base64")}"), (char) => char.charCodeAt(0));
      const bitmap = await createImageBitmap(new Blob([bytes], { type: "image/png" }));
      const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
      const context = canvas.getContext("2d");
      context.drawImage(bitmap, 0, 0);
      const data = context.getImageData(0, 0, bitmap.width, bitmap.height).data;
      const colours = new Set();
      for (let at = 0; at < data.length; at += 4) colours.add((data[at] << 16) | (data[at + 1] << 8) | data[at + 2]);
      return colours.size;
    })()`);
    return Number(count);
  } finally {
    await blank.close();
  }
}

describe("the log viewer", () => {
  it("signs in and opens a service's log from its URL, with the earlier lines", async () => {
    const { page } = tab;
    await signIn(page, session.email);
    await page.goto(`/logs/${hostName}/${containerName}`);
    await page.getByRole("heading", { name: `Logs: ${containerName}` }).waitFor();
    await page.locator(".log-row", { hasText: /^hello 100$/ }).waitFor();
    await page.locator('.logs-state[data-state="live"]').waitFor();
    await tab.step("logs-opened");
  });

  it("follows new lines live: stderr marked, ANSI colours as classes, markup shown as text", async () => {
    const { page } = tab;
    await feed("echo 'ERROR disk full'", "err");
    await feed(
      "printf '\\033[31mred alert\\033[0m plain\\n'; echo '<script>window.xss=1</script>'; echo '<img src=x onerror=window.xss=2>'",
    );
    await page.locator(".log-row.log-stderr.log-level-error", { hasText: "ERROR disk full" }).waitFor();
    await page.locator(".log-row .ansi-red-fg", { hasText: "red alert" }).waitFor();
    await page.locator(".log-row", { hasText: "<img src=x onerror=window.xss=2>" }).waitFor();
    await page.locator(".log-row", { hasText: "<script>window.xss=1</script>" }).waitFor();
    expect(await page.locator(".log-pane img, .log-pane script").count()).toBe(0);
    expect(await page.evaluate("window.xss")).toBeUndefined();
    const pane = await page.locator(".log-pane").screenshot();
    expect(await distinctColours(pane)).toBeGreaterThan(8);
    await tab.step("logs-live");
  });

  it("pauses when scrolled up, counts new lines, and resumes at the bottom", async () => {
    const { page } = tab;
    await page.locator(".log-pane").evaluate((pane) => {
      pane.scrollTop = 0;
    });
    const jump = page.getByRole("button", { name: /^Paused — \d+ new lines?, jump to bottom$/ });
    await jump.waitFor();
    await page.locator(".log-row", { hasText: /^hello 1$/ }).waitFor();
    await feed("echo 'after pause 1'; echo 'after pause 2'; echo 'after pause 3'");
    await page.getByRole("button", { name: "Paused — 3 new lines, jump to bottom" }).waitFor();
    expect(await page.locator(".log-row", { hasText: "after pause 3" }).count()).toBe(0);
    await tab.step("logs-paused");
    await page.getByRole("button", { name: "Paused — 3 new lines, jump to bottom" }).click();
    await jump.waitFor({ state: "detached" });
    await page.locator(".log-row", { hasText: "after pause 3" }).waitFor();
    await feed("echo 'following again'");
    await page.locator(".log-row", { hasText: "following again" }).waitFor();
  });

  it("searches: counts matches, steps to one and marks it", async () => {
    const { page } = tab;
    const search = page.getByLabel("Search the log");
    await search.fill("hello 4");
    // "hello 4" and "hello 40" to "hello 49".
    await page.locator(".log-count", { hasText: "11 matches" }).waitFor();
    await page.getByRole("button", { name: "Next match" }).click();
    await page.locator(".log-count", { hasText: "1 / 11" }).waitFor();
    await page.locator(".log-row.log-current mark", { hasText: "hello 4" }).waitFor();
    expect(await page.locator(".log-row.log-current").textContent()).toBe("hello 4");
    await tab.step("logs-search");
    await search.fill("no such line anywhere");
    await page.locator(".log-count", { hasText: "No match" }).waitFor();
    await search.fill("");
  });

  it("filters stderr out and shows timestamps", async () => {
    const { page } = tab;
    await page.getByLabel("Timestamps").check();
    await page.locator(".log-row time").first().waitFor();
    await page.getByLabel("stderr").uncheck();
    await page.getByRole("button", { name: /jump to bottom/ }).click();
    await page.locator(".log-row", { hasText: "following again" }).waitFor();
    expect(await page.locator(".log-row.log-stderr").count()).toBe(0);
    await tab.step("logs-stdout-only");
    await page.getByLabel("stderr").check();
    await page.getByLabel("Timestamps").uncheck();
  });

  it("keeps 10,000 more lines smooth: only a window of rows is in the DOM", async () => {
    const { page } = tab;
    await feed("seq 1 10000 | sed 's/^/bulk line /'");
    await page.locator(".log-row", { hasText: /^bulk line 10000$/ }).waitFor({ timeout: 60_000 });
    const rows = await page.locator(".log-row").count();
    expect(rows).toBeGreaterThan(10);
    expect(rows).toBeLessThan(150);
    await expect(page.locator(".log-summary").textContent()).resolves.toMatch(/^10,1\d\d lines shown/);
    await tab.step("logs-10000");
  });

  it("downloads what is loaded as a .log file", async () => {
    const { page } = tab;
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("button", { name: "Download" }).click(),
    ]);
    expect(download.suggestedFilename()).toBe(`${containerName}.log`);
    const text = await readFile(await download.path(), "utf8");
    const lines = text.trimEnd().split("\n");
    expect(lines.length).toBeGreaterThan(10_100);
    expect(lines).toContain(lines.find((line) => / stderr ERROR disk full$/.test(line)));
    expect(text).toMatch(/ stdout red alert plain\n/);
    expect(text).toMatch(/ stdout bulk line 10000\n$/);
    tab.expectNoProblems();
  });

  it("says when the container stopped, and follows again from where it was without repeats", async () => {
    const { page } = tab;
    const summary = page.locator(".log-summary");
    const before = await summary.textContent();
    await world.docker.getContainer(containerId).kill({ signal: "SIGKILL" });
    const again = page.getByRole("button", { name: "Follow again" });
    await again.waitFor();
    await page.locator('.logs-state[data-state="stopped"]', { hasText: "The container stopped" }).waitFor();
    await tab.step("logs-container-stopped");
    const [socket] = await Promise.all([page.waitForEvent("websocket"), again.click()]);
    expect(socket.url()).toMatch(/\/logs\/follow\?host=[^&]+&since=\d{4}-/);
    await socket.waitForEvent("close");
    await again.waitFor();
    expect(await summary.textContent()).toBe(before);
  });

  it("shows a host that went offline, and opening the log then says why", async () => {
    const { page } = tab;
    await agent.stop();
    await page.reload();
    const alert = page.locator('[role="alert"]');
    await alert.waitFor();
    expect(await alert.getAttribute("data-code")).toBe("AGENT_OFFLINE");
    await page.getByRole("button", { name: "Try again" }).waitFor();
    expect(await page.locator(".log-view").count()).toBe(0);
    // Chromium logs the lookup's 503 as a console error: here it is the answer the page shows.
    const expected = tab.problems.findIndex((problem) => problem.includes("status of 503"));
    expect(expected).toBeGreaterThanOrEqual(0);
    tab.problems.splice(expected, 1);
    await tab.step("logs-host-offline");
  });
});
