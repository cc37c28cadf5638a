/**
 * Device login in a real Chromium against the real Worker and real kai-agent processes:
 * `kai-agent login` prints a URL; opened signed out, it leads through sign-in back to the
 * code, the page shows which machine asks and approves it; the agent gets its token, and the
 * machine is on Machines, coming online live when its agent starts. A code typed by hand, a
 * wrong one and a denial too. 390 px and 1280 px, no page errors.
 */
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CheckedPage } from "../support/browser";
import { type BrowserWorld, openBrowserWorld } from "../support/browser-world";
import { KaiAgentRun, machineHome } from "../support/device-login";
import type { Edge } from "../support/edge-server";
import { type Session, TEST_PASSWORD } from "../support/kai-client";

let world: BrowserWorld;
let edge: Edge;
let tab: CheckedPage;
let session: Session;
let tmp: string;
const runs: KaiAgentRun[] = [];

beforeAll(async () => {
  // Signed out: the link kai-agent prints must lead through sign-in.
  world = await openBrowserWorld("device-login", { signedIn: false });
  ({ edge, tab, session } = world);
  tmp = await mkdtemp(path.join(os.tmpdir(), "kai-web-device-"));
});
afterAll(async () => {
  await Promise.all(runs.map((run) => run.stop()));
  await world?.close();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

function track(run: KaiAgentRun): KaiAgentRun {
  runs.push(run);
  return run;
}

describe("the /device page", () => {
  it("signed out, the printed URL leads through sign-in to the code; Approve gives the agent its token", async () => {
    const { page } = tab;
    const home = await machineHome(tmp, "laptop");
    const login = track(KaiAgentRun.login(edge.url, home, ["--name", "laptop"]));
    const { userCode, url } = await login.printed();

    await page.goto(url);
    await page.waitForURL(/\/sign-in\?next=/);
    await tab.step("sign-in-first");
    await page.getByLabel("Email").fill(session.email);
    await page.getByLabel("Password").fill(TEST_PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(`**/device?code=${userCode}`);

    await page.getByText(userCode).waitFor();
    const facts = page.getByLabel("The machine asking");
    await facts.getByText(os.hostname()).waitFor();
    await expect(facts.textContent()).resolves.toContain(`${process.platform} / ${process.arch}`);
    expect(await page.getByLabel("Machine name").inputValue()).toBe("laptop");
    await tab.step("asking");

    await page.getByRole("button", { name: "Approve" }).click();
    await page.getByText("Approved: laptop").waitFor();
    await tab.step("approved");
    expect(await login.exit).toBe(0);
    const configFile = path.join(home, "kai", "agent.json");
    expect((await stat(configFile)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(configFile, "utf8"))).toMatchObject({ server: edge.url });
  });

  it("the machine is on Machines, and comes online live when its agent starts", async () => {
    const { page } = tab;
    await page.getByRole("link", { name: "Machines" }).first().click();
    const card = page.locator('[data-host="laptop"]');
    await card.locator("[data-state]").getByText("offline").waitFor();
    await tab.step("machines-offline");
    track(new KaiAgentRun([], path.join(tmp, "laptop")));
    await card.locator("[data-state]").getByText("online", { exact: true }).waitFor({ timeout: 60_000 });
    await tab.step("machines-online");
  });

  it("takes a code typed by hand, says what to do about a wrong one, and denies", async () => {
    const { page } = tab;
    await page.goto("/device");
    await page.getByLabel("Code").fill("bbbb bbbb");
    await page.getByRole("button", { name: "Continue" }).click();
    await page.locator('[role="alert"][data-code="NOT_FOUND"]').getByText("kai-agent login").waitFor();
    await tab.step("wrong-code");

    const home = await machineHome(tmp, "stranger");
    const login = track(KaiAgentRun.login(edge.url, home));
    const { userCode } = await login.printed();
    await page.getByRole("link", { name: "Enter another code" }).click();
    await page.getByLabel("Code").fill(userCode.toLowerCase());
    await page.getByRole("button", { name: "Continue" }).click();
    await page.getByText(userCode).waitFor();
    await page.getByRole("button", { name: "Deny" }).click();
    await page.getByText("Denied", { exact: true }).waitFor();
    await tab.step("denied");
    expect(await login.exit).toBe(2);
    expect(login.output).toContain("denied in the dashboard");
    await expect(stat(path.join(home, "kai", "agent.json"))).rejects.toMatchObject({ code: "ENOENT" });
  });
});
