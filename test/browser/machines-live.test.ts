/**
 * The live Machines pane in a real Chromium against the real Worker and a real kai-agent on the
 * real Docker engine: with the page open, an enrolled machine's agent starting shows the machine
 * online with its versions and live stats without a reload, and stopping it shows it offline
 * without a reload; the header's indicator says the feed is live. 390 px and 1280 px, no errors.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgentProcess } from "../support/agent-process";
import { type CheckedPage, signIn } from "../support/browser";
import { type BrowserWorld, openBrowserWorld } from "../support/browser-world";
import { type Edge, startEdge } from "../support/edge-server";
import { enrollHost, type Session } from "../support/kai-client";

let world: BrowserWorld;
let edge: Edge;
let tab: CheckedPage;
let session: Session;
let host: { id: string; token: string; name: string };
let root: string;
let agent: AgentProcess | undefined;

beforeAll(async () => {
  world = await openBrowserWorld("machines-live", { signedIn: false });
  ({ edge, tab, session } = world);
  // Enrolled before the Machines page loads its list: the page learns of a machine enrolled
  // elsewhere only when it comes online, so a sign-in first raced the enrollment (one CI run's
  // page listed no machine at all).
  host = await enrollHost(session, "workstation");
  await signIn(tab.page, session.email);
  root = await mkdtemp(path.join(os.tmpdir(), "kai-web-live-"));
});
afterAll(async () => {
  await agent?.stop();
  await world?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

describe("the Machines page, live from the event feed", () => {
  it("shows the feed live in the header and the enrolled machine offline", async () => {
    const { page } = tab;
    await page.locator('[data-live="live"]').waitFor();
    await page.locator('[data-host="workstation"] [data-state]').getByText("offline").waitFor();
    await tab.step("offline-before");
  });

  it("shows the machine online, with versions and stats, when its agent starts: no reload", async () => {
    const { page } = tab;
    agent = new AgentProcess(edge.url, host.token, [root], ["--stats-interval", "1"]);
    await agent.start();
    await agent.connected();
    const card = page.locator('[data-host="workstation"]');
    await card.locator("[data-state]").getByText("online", { exact: true }).waitFor();
    await expect(card.textContent()).resolves.toMatch(/kai-agent \S+/);
    await card.locator("[data-stats] [data-running]").waitFor();
    await tab.step("online-live");
  });

  it("says reconnecting while the Worker is down, then resumes live and shows the machine back", async () => {
    const { page } = tab;
    const { persistDir, port } = edge;
    const agentLines = agent?.lines.length ?? 0;
    await edge.stop();
    await page.locator('[data-live="reconnecting"]').waitFor();
    edge = world.edge = await startEdge({ persistDir, port });
    await page.locator('[data-live="live"]').waitFor({ timeout: 30_000 });
    // The agent reconnects too (its own backoff); the next test's offline then comes through the resumed feed.
    await agent?.waitFor(/ connected /, 40_000, agentLines);
    // Chromium logs each refused reconnect attempt as a console error: expected while the Worker is down.
    const refused = /WebSocket connection to .* failed|net::ERR_CONNECTION_REFUSED/;
    const unexpected = tab.problems.filter((problem) => !refused.test(problem));
    tab.problems.splice(0, tab.problems.length, ...unexpected);
    await tab.step("reconnected");
  });

  it("shows the machine offline with when it was last seen when its agent stops: no reload", async () => {
    const { page } = tab;
    await agent?.stop();
    agent = undefined;
    const card = page.locator('[data-host="workstation"]');
    await card.locator("[data-state]").getByText("offline").waitFor();
    await expect(card.textContent()).resolves.toMatch(/last seen (?!never)/);
    await page.locator('[data-live="live"]').waitFor();
    await tab.step("offline-live");
  });

  it("lists every machine past the API's page of 100, after a reload", async () => {
    const { page } = tab;
    // 100 more: with the first there are 101, one past the largest page the API answers.
    const names = Array.from({ length: 100 }, (_, index) => `fleet-${String(index).padStart(3, "0")}`);
    for (let start = 0; start < names.length; start += 10) {
      await Promise.all(names.slice(start, start + 10).map((name) => enrollHost(session, name)));
    }
    await page.reload();
    await page.locator('[data-host="fleet-099"]').waitFor();
    expect(await page.locator("[data-host]").count()).toBe(101);
    await tab.step("101-machines");
  });
});
