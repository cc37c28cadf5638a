/**
 * An outdated agent on the Machines page, in a real Chromium against the real Worker: with the
 * page open, a real kai-agent bundle built as an older release connects and its machine shows
 * the outdated badge with `kai-agent upgrade` to copy; when the current agent takes its place
 * the badge goes, both without a reload. 390 px and 1280 px, no errors.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AGENT_RELEASE } from "../../shared/version";
import { AgentProcess } from "../support/agent-process";
import type { CheckedPage } from "../support/browser";
import { type BrowserWorld, openBrowserWorld } from "../support/browser-world";
import type { Edge } from "../support/edge-server";
import { enrollHost, type Session } from "../support/kai-client";
import { buildOldAgent, OLD_AGENT_VERSION } from "../support/old-agent";

let world: BrowserWorld;
let edge: Edge;
let tab: CheckedPage;
let session: Session;
let host: { id: string; token: string; name: string };
let root: string;
let oldBundle: string;
let agent: AgentProcess | undefined;

beforeAll(async () => {
  [world, oldBundle] = await Promise.all([openBrowserWorld("machines-outdated"), buildOldAgent()]);
  ({ edge, tab, session } = world);
  host = await enrollHost(session, "old-laptop");
  root = await mkdtemp(path.join(os.tmpdir(), "kai-web-outdated-"));
});
afterAll(async () => {
  await agent?.stop();
  await world?.close();
  for (const dir of [root, oldBundle && path.dirname(oldBundle)])
    if (dir) await rm(dir, { recursive: true, force: true });
});

describe("the Machines page and an outdated agent", () => {
  it("shows the badge and the command to copy when an older agent connects: no reload", async () => {
    const { page } = tab;
    const card = page.locator('[data-host="old-laptop"]');
    await card.locator("[data-state]").getByText("offline").waitFor();
    expect(await card.locator("[data-outdated]").count()).toBe(0);

    agent = new AgentProcess(edge.url, host.token, [root], [], oldBundle);
    await agent.connected();
    await card.locator("[data-state]").getByText("online", { exact: true }).waitFor();
    const notice = card.locator("[data-outdated]");
    await notice.getByText("outdated", { exact: true }).waitFor();
    await expect(notice.textContent()).resolves.toContain(`kai-agent ${OLD_AGENT_VERSION} → ${AGENT_RELEASE}`);
    await notice.getByRole("button", { name: "Copy command" }).click();
    await notice.getByRole("button", { name: "Copied" }).waitFor();
    expect(await page.evaluate("navigator.clipboard.readText()")).toBe("kai-agent upgrade");
    await tab.step("outdated");
  });

  it("drops the badge when the current agent takes the machine's place: no reload", async () => {
    const { page } = tab;
    await agent?.stop();
    const card = page.locator('[data-host="old-laptop"]');
    await card.locator("[data-state]").getByText("offline").waitFor();
    agent = new AgentProcess(edge.url, host.token, [root]);
    await agent.connected();
    await card.locator("[data-state]").getByText("online", { exact: true }).waitFor();
    await card.getByText(`kai-agent ${AGENT_RELEASE}`).waitFor();
    await card.locator("[data-outdated]").waitFor({ state: "detached" });
    await tab.step("current");
  });
});
