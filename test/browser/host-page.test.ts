/**
 * A machine's page in a real Chromium against the real Worker and a real kai-agent on the real
 * Docker engine: the Machines list links to it, it shows what Kai knows of the machine, and
 * "Run checks" has the connected agent run kai-agent doctor and shows each check with its
 * outcome; once the machine is offline, its page still shows that last report. 390 px and 1280 px,
 * no errors.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgentProcess } from "../support/agent-process";
import type { CheckedPage } from "../support/browser";
import { type BrowserWorld, openBrowserWorld } from "../support/browser-world";
import type { Edge } from "../support/edge-server";
import { enrollHost } from "../support/kai-client";

let world: BrowserWorld;
let edge: Edge;
let tab: CheckedPage;
let root: string;
let agent: AgentProcess;

beforeAll(async () => {
  world = await openBrowserWorld("host-page");
  ({ edge, tab } = world);
  const host = await enrollHost(world.session, "buildbox");
  root = await mkdtemp(path.join(os.tmpdir(), "kai-web-host-"));
  agent = new AgentProcess(edge.url, host.token, [root]);
  await agent.connected();
});
afterAll(async () => {
  await agent?.stop();
  await world?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

describe("a machine's page", () => {
  it("opens from the Machines list and shows the machine's details", async () => {
    const { page } = tab;
    await page.locator('[data-host="buildbox"]').getByRole("link", { name: "buildbox" }).click();
    await page.waitForURL(/\/machines\/[0-9a-f-]{36}$/);
    await page.getByRole("heading", { name: "buildbox" }).waitFor();
    const facts = page.locator('[data-host-page="buildbox"]');
    await facts.locator("[data-state]").getByText("online", { exact: true }).waitFor();
    await expect(facts.textContent()).resolves.toMatch(/kai-agent\d+\.\d+\.\d+/);
    await tab.step("details");
  });

  it("runs the checks on the machine and shows each one's outcome", async () => {
    const { page } = tab;
    await page.getByRole("button", { name: "Run checks" }).click();
    const report = page.locator('[data-doctor="ok"]');
    await report.waitFor({ timeout: 30_000 });
    for (const id of ["server", "token", "docker", "policy", "node", "round-trip"])
      await report.locator(`[data-check="${id}"][data-status="pass"]`).waitFor();
    await expect(report.textContent()).resolves.toContain("kai-agent looks healthy");
    await expect(report.locator('[data-check="token"]').textContent()).resolves.toContain("buildbox");
    await tab.step("checks");
  });

  it("still shows the last report once the machine is offline", async () => {
    const { page } = tab;
    await agent.stop();
    await page.reload();
    const facts = page.locator('[data-host-page="buildbox"]');
    await facts.locator("[data-state]").getByText("offline", { exact: true }).waitFor();
    const report = page.locator('[data-doctor="ok"]');
    await report.locator('[data-check="round-trip"][data-status="pass"]').waitFor();
    await expect(page.textContent("main")).resolves.toContain("The machine is offline");
    await tab.step("offline-last-report");
  });
});
