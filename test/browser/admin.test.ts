/**
 * The Webhooks and Audit pages in a real Chromium against the real Worker and a real kai-agent
 * on the real Docker engine: a webhook added from the page is delivered to a real local receiver
 * (signature checked with the independent `standardwebhooks` package), its delivery appears in
 * the page's log and is redelivered; the audit log filtered by command shows only that command.
 * Every step is checked at 390 px and 1280 px for overflow and page errors.
 */
import type { Browser } from "playwright-core";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createWorld, type World } from "../e2e/world";
import { CheckedPage, launchBrowser, signIn } from "../support/browser";
import { startReceiver } from "../support/webhook-receiver";

let world: World;
let browser: Browser;
let tab: CheckedPage;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let generatedSecret = "";

beforeAll(async () => {
  [world, browser] = await Promise.all([
    createWorld({ edgeVars: { WEBHOOKS_ALLOW_PRIVATE: "true" } }),
    launchBrowser(),
  ]);
  // The page has Kai generate the secret; this receiver's own check is not used (see below).
  receiver = await startReceiver("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD");
  tab = await CheckedPage.open(browser, world.edge.url, "admin");
  const { page } = tab;
  await signIn(page, world.session.email);
});
afterAll(async () => {
  await tab?.close();
  await browser?.close();
  await receiver?.close();
  await world?.dispose();
});

describe("the Webhooks page", () => {
  const url = () => `${receiver.url}/kai`;

  it("adds a webhook and shows its generated signing secret once", async () => {
    const { page } = tab;
    await page.getByRole("link", { name: "Webhooks" }).click();
    await page.getByText("No webhook yet").waitFor();
    await tab.step("webhooks-empty");
    await page.getByLabel("Endpoint URL").fill(url());
    await page.getByLabel("host.online").check();
    await page.getByLabel("container.died").check();
    await page.getByRole("button", { name: "Add webhook" }).click();
    await page.locator(`[data-webhook="${url()}"]`).waitFor();
    const secret = (await page.locator('pre[data-secret^="Signing secret"]').textContent()) ?? "";
    expect(secret).toMatch(/^whsec_/);
    const card = (await page.locator(`[data-webhook="${url()}"]`).textContent()) ?? "";
    expect(card).toContain("host.online");
    expect(card).toContain("container.died");
    await tab.step("webhook-added");
    const listed = await world.api("/api/webhooks");
    expect(listed.body.data).toEqual([expect.objectContaining({ url: url(), active: true })]);
    generatedSecret = secret;
  });

  it("sends a test the receiver verifies, and shows it succeeded in the delivery log", async () => {
    const { page } = tab;
    const card = page.locator(`[data-webhook="${url()}"]`);
    await card.getByRole("button", { name: "Send test" }).click();
    await receiver.waitFor(1);
    const got = receiver.received[0];
    const payload = new Webhook(generatedSecret).verify(got?.body ?? "", {
      "webhook-id": String(got?.headers["webhook-id"]),
      "webhook-timestamp": String(got?.headers["webhook-timestamp"]),
      "webhook-signature": String(got?.headers["webhook-signature"]),
    }) as { type: string };
    expect(payload.type).toBe("webhook.test");
    const row = card.locator(`[data-delivery="${got?.headers["webhook-id"]}"]`);
    // The page reads the log again while a delivery is pending, so this needs no reload.
    await card.locator('[data-status="succeeded"]').waitFor();
    await expect(row.textContent()).resolves.toMatch(/webhook\.test.*succeeded.*1 attempt.*Last: 200/);
    await tab.step("webhook-delivered");
  });

  it("redelivers the delivery: the receiver gets it again with the same webhook-id", async () => {
    const { page } = tab;
    const card = page.locator(`[data-webhook="${url()}"]`);
    const id = String(receiver.received[0]?.headers["webhook-id"]);
    await card.locator(`[data-delivery="${id}"]`).getByRole("button", { name: "Redeliver" }).click();
    await receiver.waitFor(2);
    expect(receiver.received[1]?.headers["webhook-id"]).toBe(id);
    await card.locator(`[data-delivery="${id}"] [data-attempts="2"]`).waitFor();
    await card.locator('[data-status="succeeded"]').waitFor();
    await tab.step("webhook-redelivered");
  });

  it("deletes the webhook", async () => {
    const { page } = tab;
    await page.locator(`[data-webhook="${url()}"]`).getByRole("button", { name: "Delete" }).click();
    await page.getByText("No webhook yet").waitFor();
    expect((await world.api("/api/webhooks")).body.data).toEqual([]);
    await tab.step("webhook-deleted");
  });
});

describe("the Audit page", () => {
  it("lists the commands relayed to the machine, and filtering by command shows only that one", async () => {
    const selector = { "X-Kai-Host": world.host.id };
    for (const path of ["/api/flexy", "/api/system/stats", "/api/flexy"]) {
      expect((await world.api(path, { headers: selector })).status).toBe(200);
    }
    const { page } = tab;
    await page.getByRole("link", { name: "Audit" }).click();
    await page.locator('[data-op="system.stats"]').first().waitFor();
    await page.locator('[data-op="container.list"]').first().waitFor();
    await tab.step("audit-all");
    await page.getByLabel("Command").fill("container.list");
    await page.getByRole("button", { name: "Apply" }).click();
    await page.locator('[data-op="system.stats"]').first().waitFor({ state: "detached" });
    const ops = await page.locator("[data-op]").evaluateAll((rows) => rows.map((row) => row.getAttribute("data-op")));
    expect(ops.length).toBeGreaterThanOrEqual(2);
    expect(new Set(ops)).toEqual(new Set(["container.list"]));
    await expect(page.locator("[data-total]").getAttribute("data-total")).resolves.toBe(String(ops.length));
    await page.getByLabel("Outcome").selectOption("error");
    await page.getByRole("button", { name: "Apply" }).click();
    await page.getByText("No entries match.").waitFor();
    await tab.step("audit-filtered");
  });

  it("the API filters by machine and time range too (what the page's other filters send)", async () => {
    const count = async (query: string) => (await world.api(`/api/audit?${query}`)).body.data.total as number;
    const all = await count("");
    expect(all).toBeGreaterThanOrEqual(3);
    expect(await count(`hostId=${world.host.id}`)).toBe(all);
    expect(await count("hostId=another-host")).toBe(0);
    const hourAgo = new Date(Date.now() - 3_600_000).toISOString();
    const inAnHour = new Date(Date.now() + 3_600_000).toISOString();
    expect(await count(`from=${hourAgo}&to=${inAnHour}`)).toBe(all);
    expect(await count(`from=${inAnHour}`)).toBe(0);
    expect(await count(`to=${hourAgo}`)).toBe(0);
    expect(await count("op=system.stats&outcome=ok")).toBe(1);
  });
});
