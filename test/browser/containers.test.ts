/**
 * The Containers and service pages in a real Chromium against the real Worker, a real
 * kai-agent and the real Docker engine: a second (offline) machine makes every call name its
 * host; a container is created from a workspace picked with the folder browser (a folder
 * outside the agent's allowed roots is refused and says so), shows in the table with its
 * host, stops and starts from there (and shows a stop made outside Kai by itself), and its
 * service page draws CPU and memory. Every step is
 * checked at 390 px and 1280 px for overflow and page errors (test/support/browser.ts).
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SERIES_COLOURS } from "../../web/src/components/containers/series-colours";
import { createWorld, type World } from "../e2e/world";
import { CheckedPage, launchBrowser, signIn } from "../support/browser";
import { enrollHost, uniqueName } from "../support/kai-client";

let world: World;
let browser: Browser;
let tab: CheckedPage;
const name = uniqueName("web-ctr-");

beforeAll(async () => {
  // The page stops with Kai's default 10 s grace, and busybox's sleep ignores SIGTERM: the relay
  // waits as long as it does in production (30 s), not the 3 s the API tests use.
  [world, browser] = await Promise.all([createWorld({ edgeVars: { AGENT_TIMEOUT_MS: "30000" } }), launchBrowser()]);
  tab = await CheckedPage.open(browser, world.edge.url, "containers");
});
afterAll(async () => {
  await tab?.close();
  await browser?.close();
  await world?.dispose();
});

/**
 * The distinct colours of a screenshot (PNG), decoded by the page itself (an <img> from a data:
 * URL, which the CSP allows, drawn on a canvas): a blank chart has one or two. Also whether
 * one of `strokes` (the series' line colours, #rrggbb) is among them.
 */
async function coloursOf(page: Page, png: Buffer, strokes: string[]): Promise<{ count: number; hasStroke: boolean }> {
  const source = `data:image/png;base64,${png.toString("base64")}`;
  const script = `(async () => {
    const image = new Image();
    image.src = ${JSON.stringify(source)};
    await image.decode();
    const canvas = document.createElement("canvas");
    canvas.width = image.width;
    canvas.height = image.height;
    const context = canvas.getContext("2d");
    context.drawImage(image, 0, 0);
    const data = context.getImageData(0, 0, image.width, image.height).data;
    const colours = new Set();
    for (let i = 0; i < data.length; i += 4) colours.add((data[i] << 16) | (data[i + 1] << 8) | data[i + 2]);
    return { count: colours.size, hasStroke: ${JSON.stringify(strokes.map((stroke) => Number.parseInt(stroke.slice(1), 16)))}.some((c) => colours.has(c)) };
  })()`;
  return page.evaluate(script) as Promise<{ count: number; hasStroke: boolean }>;
}

/** An idle container's CPU and memory both sit at 0 %, so one line may hide the other. */
const LINES = [SERIES_COLOURS.cpu, SERIES_COLOURS.memory];

/** How many stats samples the service page's chart holds. */
const samples = async (page: Page) => Number(await page.locator(".chart").getAttribute("data-sample-count"));

describe("containers across machines, in the browser", () => {
  it("signs in with a second machine that is offline, which the Containers page names", async () => {
    const offline = await enrollHost(world.session, "parked");
    expect(offline.id).toBeTruthy();
    const { page } = tab;
    await signIn(page, world.session.email);
    await page.getByRole("link", { name: "Containers" }).click();
    await page.locator("[data-offline-hosts]").getByText("parked").waitFor();
    // The engine is shared with other tests: whatever it runs is listed, or nothing yet.
    await page.locator('table[aria-label="Containers"], :text("No container yet")').first().waitFor();
    await tab.step("containers-empty");
  });

  it("creates a container from a folder picked with the browser, which refuses a folder outside the roots", async () => {
    const { page } = tab;
    await page.getByRole("link", { name: "New container" }).click();
    await page.getByRole("button", { name: "Add a folder as a workspace…" }).click();
    const browserBox = page.locator(".directory-browser");
    // The first listing (the first allowed root) is in before a path is typed over it.
    await browserBox.getByRole("button", { name: "Use this folder" }).waitFor();
    await browserBox.getByLabel("Folder", { exact: true }).fill("/etc");
    await browserBox.getByRole("button", { name: "Go" }).click();
    const refusal = browserBox.locator('[role="alert"]');
    await refusal.waitFor();
    expect(await refusal.getAttribute("data-code")).toBe("PERMISSION_DENIED");
    await tab.step("folder-refused");
    await browserBox.getByLabel("Folder", { exact: true }).fill(world.root);
    await browserBox.getByRole("button", { name: "Go" }).click();
    await refusal.waitFor({ state: "detached" });
    await browserBox.getByRole("button", { name: "Use this folder" }).click();
    await expect
      .poll(() => page.getByLabel("Workspace (a folder on that machine)").inputValue(), { timeout: 15_000 })
      .not.toBe("");
    await page.getByLabel("Container name").fill(name);
    await page.getByLabel(/^Image/).fill(world.image);
    await tab.step("new-container");
    await page.getByRole("button", { name: "Create" }).click();
    await page.waitForURL(`**/services/${world.host.id}/${name}`);
    await page.locator(`[data-service="${name}"]`).waitFor();
    await tab.step("service-created");
  });

  it("shows the container with its host; stop shows stopped, start shows running", async () => {
    const { page } = tab;
    await page.getByRole("link", { name: "← Containers" }).click();
    const row = page.locator(`tr[data-container="${name}"]`);
    await row.waitFor();
    expect(await row.getAttribute("data-host")).toBe(world.host.name);
    await expect(row.locator('[data-label="Host"]').textContent()).resolves.toContain(world.host.name);
    await expect(row.locator('[data-label="Image"]').textContent()).resolves.toContain(world.image);
    if ((await row.getAttribute("data-status")) !== "running") {
      await row.getByRole("button", { name: "Start", exact: true }).click();
      await page.locator(`tr[data-container="${name}"][data-status="running"]`).waitFor();
    }
    await tab.step("running");
    await row.getByRole("button", { name: "Stop", exact: true }).click();
    await page.locator(`tr[data-container="${name}"][data-status="stopped"]`).waitFor({ timeout: 30_000 });
    await expect(row.locator("[data-state]").textContent()).resolves.toBe("stopped");
    await tab.step("stopped");
    await row.getByRole("button", { name: "Start", exact: true }).click();
    await page.locator(`tr[data-container="${name}"][data-status="running"]`).waitFor();
    await expect(row.locator("[data-state]").textContent()).resolves.toBe("running");
    await tab.step("started");
  });

  it("shows a container stopped outside Kai as stopped without a reload, and starts it again", async () => {
    const { page } = tab;
    await world.docker.getContainer(name).stop({ t: 0 });
    await page.locator(`tr[data-container="${name}"][data-status="stopped"]`).waitFor({ timeout: 30_000 });
    await page.locator(`tr[data-container="${name}"]`).getByRole("button", { name: "Start", exact: true }).click();
    await page.locator(`tr[data-container="${name}"][data-status="running"]`).waitFor();
  });

  it("opens the service page, whose chart of CPU and memory is drawn", async () => {
    const { page } = tab;
    await page.locator(`tr[data-container="${name}"]`).getByRole("link", { name }).click();
    await page.waitForURL(`**/services/${world.host.id}/${name}`);
    await page.locator("[data-latest-stats]").waitFor({ timeout: 20_000 });
    expect(await page.locator("[data-logs-link]").getAttribute("href")).toBe(`/logs/${world.host.id}/${name}`);
    const chart = page.locator(".chart canvas");
    await chart.waitFor();
    const box = await chart.boundingBox();
    expect(box?.width).toBeGreaterThan(300);
    expect(box?.height).toBeGreaterThan(150);
    // Two samples at least, so the lines have a segment to draw.
    await expect.poll(() => samples(page), { timeout: 20_000 }).toBeGreaterThanOrEqual(2);
    const light = await coloursOf(page, await chart.screenshot(), LINES);
    expect(light.count).toBeGreaterThan(10);
    expect(light.hasStroke).toBe(true);
    // uPlot reads the theme when it is made: a page opened in the dark scheme draws a dark chart.
    await page.emulateMedia({ colorScheme: "dark" });
    await page.reload();
    await expect.poll(() => samples(page), { timeout: 20_000 }).toBeGreaterThanOrEqual(2);
    const dark = await coloursOf(page, await chart.screenshot(), LINES);
    expect(dark.count).toBeGreaterThan(10);
    expect(dark.hasStroke).toBe(true);
    await page.emulateMedia({ colorScheme: "light" });
    await tab.step("service-chart");
  });

  it("shows a machine that goes offline: its rows say so and their actions are off", async () => {
    const { page } = tab;
    await page.getByRole("link", { name: "← Containers" }).click();
    const row = page.locator(`tr[data-container="${name}"][data-status="running"]`);
    await row.waitFor();
    await world.agent.stop();
    await row.locator('[data-label="Host"] .offline').waitFor({ timeout: 30_000 });
    // A poll already on its way when the agent died is answered 503 AGENT_OFFLINE (the page shows
    // it; Chromium logs every 5xx as a console error): that answer is expected here, nothing else.
    const unexpected = tab.problems.filter((problem) => !problem.includes("status of 503"));
    tab.problems.splice(0, tab.problems.length, ...unexpected);
    expect(await row.getByRole("button", { name: "Stop", exact: true }).isDisabled()).toBe(true);
    expect(await row.getByRole("button", { name: "Delete", exact: true }).isDisabled()).toBe(true);
    await expect(row.textContent()).resolves.toContain("last seen");
    await tab.step("containers-offline");
    await row.getByRole("link", { name }).click();
    await page.locator("[data-host-offline]").waitFor();
    await tab.step("service-offline");
  });
});
