/**
 * Agent sessions and the approval inbox in a real Chromium, against the real Worker and a real
 * kai-agent whose only profile is the scripted ACP agent (test/fixtures/acp-agent.ts): start a
 * session with a first message, every message type rendered, an approval answered in one tab
 * and seen "decided elsewhere" in another, the inbox and its badge, a reload in the middle of
 * a turn resuming without duplicates, cancel and end. Each step is checked at 390 px and
 * 1280 px for overflow and page errors (test/support/browser.ts).
 */
import { mkdir } from "node:fs/promises";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createWorld, type World } from "../e2e/world";
import { fixturePolicy } from "../support/acp-fixture-profile";
import { CheckedPage, launchBrowser, PHONE, signIn } from "../support/browser";

let world: World;
let browser: Browser;
/** Tab A: the checked page (steps, screenshots). */
let tab: CheckedPage;
/** Tab B: a second tab of the same signed-in browser, watching the same session. */
let other: Page;
const otherProblems: string[] = [];
let sessionUrl = "";

beforeAll(async () => {
  [world, browser] = await Promise.all([createWorld({ policy: fixturePolicy() }), launchBrowser()]);
  const project = path.join(world.root, "web-agent-project");
  await mkdir(project);
  const item = await world.api("/api/catalog/flexy", { body: { name: "web-agent-project", hostPath: project } });
  expect(item.status, JSON.stringify(item.body)).toBe(201);
  tab = await CheckedPage.open(browser, world.edge.url, "agent-sessions");
  const { page } = tab;
  await signIn(page, world.session.email);
});

afterAll(async () => {
  await other?.close();
  await tab?.close();
  await browser?.close();
  await world?.dispose();
});

/** Opens tab B in tab A's browser context (same cookie), failing the test on its page errors too. */
async function openOtherTab(url: string): Promise<Page> {
  const page = await tab.context.newPage();
  page.setDefaultTimeout(15_000);
  page.on("pageerror", (error) => otherProblems.push(`pageerror: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error" && !/status of 4\d\d/.test(message.text())) {
      otherProblems.push(`console.error: ${message.text()}`);
    }
  });
  await page.setViewportSize(PHONE);
  await page.goto(url);
  return page;
}

/** The newest card of a tool call id (the fixture reuses its ids in every turn). */
const card = (page: Page, toolCallId: string) => page.locator(`[data-tool-call-id="${toolCallId}"]`).last();
const approvalIn = (page: Page, toolCallId: string, state: string) =>
  card(page, toolCallId).locator(`[data-approval-state="${state}"]`);
const titleIs = (page: Page, title: string) => page.waitForFunction(`document.title === ${JSON.stringify(title)}`);
const badge = (page: Page, count: number) => page.locator(`.nav-badge[data-pending-count="${count}"]`);
const doneCount = (page: Page) => page.locator('[data-kind="done"]').count();

/** Sends a message from the session page's composer. */
async function send(page: Page, text: string): Promise<void> {
  await page.getByLabel("Message to the agent").fill(text);
  await page.getByRole("button", { name: "Send" }).click();
}

describe("agent sessions in the dashboard", () => {
  it("starts a session in the workspace with the host's default profile and a first message", async () => {
    const { page } = tab;
    await page.getByRole("link", { name: "Sessions" }).click();
    await page.getByText("No session yet").waitFor();
    await expect(page.getByLabel("Agent profile").inputValue()).resolves.toBe("fixture");
    await page.getByLabel("First message (optional)").fill("scenario:all");
    await tab.step("sessions-empty");
    await page.getByRole("button", { name: "Start session" }).click();
    await page.waitForURL(/\/sessions\/[0-9a-f-]{36}$/);
    sessionUrl = new URL(page.url()).pathname;
  });

  it("renders every message type, and an approval answered inline reads as the user's own", async () => {
    const { page } = tab;
    await approvalIn(page, "t1", "pending").waitFor();
    await badge(page, 1).waitFor();
    await titleIs(page, "(1) Kai");
    await tab.step("approval-pending");
    await approvalIn(page, "t1", "pending").getByRole("button", { name: "Allow" }).click();
    await page.locator('[data-kind="done"]').getByText("Turn finished.").waitFor();
    await approvalIn(page, "t1", "allowed").getByText("You decided: allowed.").waitFor();
    await expect(page.locator('[data-kind="thinking"]').first().textContent()).resolves.toContain("Let me look.");
    await expect(card(page, "t1").textContent()).resolves.toContain("file-a");
    await expect(card(page, "t1").textContent()).resolves.toContain('"command": "ls"');
    await expect(page.locator('[data-tool-call-id="t2"][data-failed]').textContent()).resolves.toContain(
      "no such file",
    );
    await expect(page.locator('[data-kind="text"]').last().textContent()).resolves.toMatch(/^chose /);
    await badge(page, 0).waitFor({ state: "attached" });
    await titleIs(page, "Kai");
    await tab.step("all-messages");
  });

  it("answers in one tab: the other shows it decided elsewhere, the inbox listed it, the count goes to 0", async () => {
    const { page } = tab;
    other = await openOtherTab(sessionUrl);
    await other.locator('[data-kind="done"]').first().waitFor();
    const before = await doneCount(page);
    await send(page, "scenario:permission");
    await approvalIn(page, "p1", "pending").waitFor();
    await approvalIn(other, "p1", "pending").waitFor();
    await page.locator('[data-kind="prompt"]').getByText("scenario:permission").waitFor();
    await page.getByText("The agent is working on a turn.").waitFor();
    await expect(page.getByRole("button", { name: "Send" }).isDisabled()).resolves.toBe(true);

    await page.getByRole("link", { name: "Approvals" }).click();
    await page.locator("[data-approval-item]").waitFor();
    await expect(page.locator("[data-approval-item]").count()).resolves.toBe(1);
    await badge(page, 1).waitFor();
    await titleIs(page, "(1) Kai");
    await tab.step("inbox-pending");

    // Tab B answers while tab A shows the inbox: the feed tells A at once, without a reload.
    await approvalIn(other, "p1", "pending").getByRole("button", { name: "Allow" }).click();
    await approvalIn(other, "p1", "allowed").getByText("You decided: allowed.").waitFor();
    await page.locator("[data-approval-item]").getByText("Already decided elsewhere: allowed.").waitFor();
    await badge(page, 0).waitFor({ state: "attached" });
    await titleIs(page, "Kai");
    await titleIs(other, "Kai");
    await tab.step("inbox-decided-elsewhere");
    await page.getByRole("link", { name: "Open the session" }).click();
    await approvalIn(page, "p1", "allowed").getByText("Already decided elsewhere: allowed.").waitFor();
    await page.locator('[data-kind="done"]').nth(before).waitFor();
    await expect(page.locator('[data-kind="text"]').last().textContent()).resolves.toContain("permission: ");
    await tab.step("decided-elsewhere");
    expect(otherProblems).toEqual([]);
  });

  it("answers from the inbox: the session tabs show the outcome decided elsewhere", async () => {
    const { page } = tab;
    const before = await doneCount(other);
    await send(other, "scenario:permission");
    await approvalIn(other, "p1", "pending").waitFor();
    await page.getByRole("link", { name: "Approvals" }).click();
    const item = page.locator("[data-approval-item]");
    await item.getByRole("button", { name: "Reject" }).click();
    await item.getByText("You decided: rejected.").waitFor();
    await approvalIn(other, "p1", "rejected").getByText("Already decided elsewhere: rejected.").waitFor();
    await other.locator('[data-kind="done"]').nth(before).waitFor();
    await badge(page, 0).waitFor({ state: "attached" });
    await tab.step("inbox-answered");
    expect(otherProblems).toEqual([]);
  });

  it("resumes after a reload in the middle of a turn, without a repeated or missing message", async () => {
    const { page } = tab;
    await page.goto(sessionUrl);
    await page.locator('[data-kind="done"]').first().waitFor();
    const before = await doneCount(page);
    await send(page, "scenario:slow");
    await page.locator('[data-kind="text"]').last().getByText("slow 30").waitFor();
    await page.reload();
    await page.locator('[data-kind="done"]').nth(before).waitFor({ timeout: 60_000 });
    await other.locator('[data-kind="done"]').nth(before).waitFor({ timeout: 60_000 });
    const expected = Array.from({ length: 400 }, (_, index) => `slow ${index}\n`).join("");
    await expect(page.locator('[data-kind="text"]').last().textContent()).resolves.toBe(expected);
    await expect(other.locator('[data-kind="text"]').last().textContent()).resolves.toBe(expected);
    const details = await world.api(`/api/v1/agent-sessions${sessionUrl.slice("/sessions".length)}`);
    const lastSeq = String(details.body.last_seq);
    await expect(page.locator(".session-page").getAttribute("data-last-seq")).resolves.toBe(lastSeq);
    await expect(other.locator(".session-page").getAttribute("data-last-seq")).resolves.toBe(lastSeq);
    await tab.step("resumed");
  });

  it("cancels a running turn, then ends the session after a confirmation; the list follows live", async () => {
    const { page } = tab;
    const before = await doneCount(page);
    const texts = await page.locator('[data-kind="text"]').count();
    await send(page, "scenario:slow");
    await page.locator('[data-kind="text"]').nth(texts).getByText("slow 3").waitFor();
    await page.getByRole("button", { name: "Cancel turn" }).click();
    await page.locator('[data-kind="done"]').nth(before).getByText("Turn cancelled.").waitFor();
    // Tab B shows the list while A ends the session: the feed updates B's row without a reload.
    await other.goto("/sessions");
    await other.locator('.session-item[data-status="idle"]').waitFor();
    await page.getByRole("button", { name: "End session" }).click();
    await page.locator('.session-status[data-status="ended"]').waitFor();
    await other.locator('.session-item[data-status="ended"]').waitFor();
    await expect(page.getByRole("button", { name: "Send" }).isDisabled()).resolves.toBe(true);
    await tab.step("ended");
    await page.getByRole("link", { name: "Sessions", exact: true }).first().click();
    await page.locator('.session-item[data-status="ended"]').waitFor();
    await tab.step("sessions-list");
    expect(otherProblems).toEqual([]);
  });
});
