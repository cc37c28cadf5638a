/**
 * The dashboard in a real Chromium against the real Worker and a real kai-agent: register with
 * the emailed code, create and revoke an API token, enroll a machine and start its agent with
 * what the page shows, see it online after a reload, sign out from a reloaded page. Every step
 * is checked at 390 px and 1280 px for overflow and page errors (test/support/browser.ts).
 */
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgentProcess } from "../support/agent-process";
import { CheckedPage, launchBrowser } from "../support/browser";
import { type Edge, startEdge } from "../support/edge-server";
import { request, uniqueName } from "../support/kai-client";

let edge: Edge;
let browser: Browser;
let tab: CheckedPage;
const agents: AgentProcess[] = [];

beforeAll(async () => {
  [edge, browser] = await Promise.all([startEdge(), launchBrowser()]);
  tab = await CheckedPage.open(browser, edge.url, "sign-in");
});
afterAll(async () => {
  for (const agent of agents) await agent.stop();
  await tab?.close();
  await browser?.close();
  await edge?.stop();
});

const username = uniqueName("web_");
const email = `${username}@example.com`;

/** The code the development mailer sent last to `email`. */
async function mailedCode(): Promise<string> {
  const mailbox = await request<{ messages: { code: string | null }[] }>(
    edge.url,
    `/api/v1/dev/mailbox?email=${encodeURIComponent(email)}`,
  );
  const code = mailbox.body.messages[0]?.code;
  if (!code) throw new Error(`no code was mailed to ${email}`);
  return code;
}

/** Whether `token` opens the API right now. */
const tokenWorks = async (token: string) => (await request(edge.url, "/api/tokens", { token })).status === 200;

describe("the dashboard, signed in with an emailed code", () => {
  it("registers: details, then the code from the mail, and lands on Machines", async () => {
    const { page } = tab;
    await page.goto("/");
    await page.waitForURL("**/sign-in");
    await page.getByRole("heading", { name: "Sign in to Kai" }).waitFor();
    await tab.step("sign-in");
    await page.getByRole("link", { name: "Create an account" }).click();
    await page.getByLabel("Username").fill(username);
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill("web-password");
    await tab.step("register");
    await page.getByRole("button", { name: "Email me a code" }).click();
    await page.getByRole("heading", { name: "Check your email" }).waitFor();
    await page.getByLabel("Code").fill(await mailedCode());
    await page.getByRole("button", { name: "Create account" }).click();
    await page.waitForURL("**/machines");
    await page.getByText("No machine yet").waitFor();
    await tab.step("machines-empty");
  });

  it("creates an API token shown once, which works until it is revoked", async () => {
    const { page } = tab;
    await page.getByRole("link", { name: "Account" }).click();
    await page.getByText(`Signed in as ${username}`).waitFor();
    await page.getByLabel("Name").fill("ci");
    await page.getByRole("button", { name: "Create token" }).click();
    const secret = (await page.locator('pre[data-secret^="Token"]').textContent()) ?? "";
    expect(secret).toMatch(/^kai_pat_/);
    expect(await tokenWorks(secret)).toBe(true);
    await page.locator('[data-token="ci"]').waitFor();
    await tab.step("account-token");
    await page.locator('[data-token="ci"]').getByRole("button", { name: "Revoke" }).click();
    await page.locator('[data-token="ci"]').waitFor({ state: "detached" });
    expect(await tokenWorks(secret)).toBe(false);
    await tab.step("account-revoked");
  });

  it("enrolls a machine whose agent, started with the token shown, is online after a reload", async () => {
    const { page } = tab;
    await page.getByRole("link", { name: "Machines" }).click();
    await expect(page.locator("pre[data-install-line]").textContent()).resolves.toBe(
      `curl -fsSL ${edge.url}/install.sh | sh`,
    );
    await page.getByLabel("Machine name").fill("laptop");
    await page.getByRole("button", { name: "Enroll" }).click();
    const command = (await page.locator('pre[data-secret^="1."]').textContent()) ?? "";
    const token = (await page.locator('pre[data-secret^="2."]').textContent()) ?? "";
    expect(command).toBe(`curl -fsSL ${edge.url}/install.sh | sh -s -- --with-token`);
    await expect(page.locator("[data-enroll-command] code").textContent()).resolves.toBe(
      `kai-agent login --server ${edge.url} --with-token && kai-agent`,
    );
    expect(token.length).toBeGreaterThan(20);
    await page.locator('[data-host="laptop"]').getByText("offline").waitFor();
    await tab.step("enrolled");

    const root = await mkdtemp(path.join(os.tmpdir(), "kai-web-"));
    const agent = new AgentProcess(edge.url, token, [root]);
    agents.push(agent);
    await agent.start();
    await agent.connected();
    await page.getByText("laptop is connected.").waitFor({ timeout: 20_000 });
    await page.reload();
    await page.locator('[data-host="laptop"]').getByText("online", { exact: true }).waitFor();
    await expect(page.locator('[data-host="laptop"]').textContent()).resolves.toMatch(/kai-agent \S+/);
    await tab.step("machine-online");
  });

  it("renames the machine", async () => {
    const { page } = tab;
    const card = page.locator('[data-host="laptop"]');
    await card.getByRole("button", { name: "Rename" }).click();
    await card.getByLabel("New name").fill("desk");
    await card.getByRole("button", { name: "Save" }).click();
    await page.locator('[data-host="desk"]').waitFor();
    await tab.step("renamed");
  });

  it("shows an API error as a sentence with its request id", async () => {
    const { page } = tab;
    await page.getByLabel("Machine name").fill("desk");
    await page.getByRole("button", { name: "Enroll" }).click();
    const alert = page.locator('form [role="alert"]');
    await alert.waitFor();
    expect(await alert.getAttribute("data-code")).toBe("CONFLICT");
    await expect(alert.textContent()).resolves.toMatch(/[0-9a-f-]{36}/);
    await tab.step("error");
  });

  it("signs out from a reloaded page, and the session is over", async () => {
    const { page, context } = tab;
    await page.reload();
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL("**/sign-in");
    expect((await context.request.get("/api/v1/users/me")).status()).toBe(401);
    await page.goto("/account");
    // Sent to sign in, remembering where it was going.
    await page.waitForURL("**/sign-in?next=%2Faccount");
    await tab.step("signed-out");
  });

  it("signs back in with email and password; a wrong password is refused with its reason", async () => {
    const { page } = tab;
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill("wrong-password");
    await page.getByRole("button", { name: "Sign in" }).click();
    const alert = page.locator('form [role="alert"]');
    await alert.waitFor();
    expect(await alert.getAttribute("data-code")).toBe("UNAUTHORIZED");
    await page.getByLabel("Password").fill("web-password");
    await page.getByRole("button", { name: "Sign in" }).click();
    // Back to the page it was sent away from; never to another site (state/after-sign-in.ts).
    await page.waitForURL("**/account");
    await page.getByRole("link", { name: "Machines" }).click();
    await page.waitForURL("**/machines");
    await page.locator('[data-host="desk"]').waitFor();
    await tab.step("signed-in-again");
  });
});
