import { mkdir } from "node:fs/promises";
import path from "node:path";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { expect } from "vitest";
import { ROOT } from "./edge-server";
import { TEST_PASSWORD } from "./kai-client";

/** Signs `email` in through the sign-in page (a user `signUp` registered) and waits for the machines page. */
export async function signIn(page: Page, email: string, password = TEST_PASSWORD): Promise<void> {
  await page.goto("/sign-in");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL("**/machines");
}

/** Debian's Chromium (scripts/ensure-chromium.sh installs it); playwright-core never downloads one. */
const CHROMIUM = "/usr/bin/chromium";
export const PHONE = { width: 390, height: 844 };
export const DESKTOP = { width: 1280, height: 800 };
/** Git-ignored: one picture per step and width, for people to look at after a run. */
const SCREENSHOTS = path.join(ROOT, "test-results", "screenshots");

const CLIENT_ERROR_ANSWER = /^Failed to load resource: the server responded with a status of 4\d\d/;

/** Chromium headless; playwright-core adds --no-sandbox (root) and keeps it off the network. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ["--disable-gpu"] });
}

/**
 * A page of the dashboard at `baseURL`, phone-sized, that records every uncaught exception and
 * `console.error` (a CSP violation is one): `step` fails the test on any of them.
 */
export class CheckedPage {
  readonly problems: string[] = [];
  #shots = 0;

  private constructor(
    readonly context: BrowserContext,
    readonly page: Page,
    readonly name: string,
  ) {
    page.on("pageerror", (error) => this.problems.push(`pageerror: ${error.message}`));
    page.on("console", (message) => {
      // Chromium reports every 4xx answer as a console error; the dashboard expects those (the
      // 401 that says "signed out", a 409 it shows): a test asserts what the page shows instead.
      if (message.type() !== "error" || CLIENT_ERROR_ANSWER.test(message.text())) return;
      this.problems.push(`console.error: ${message.text()}`);
    });
    // Confirmations (revoke) are accepted, as a person who clicked the button would.
    page.on("dialog", (dialog) => void dialog.accept());
  }

  static async open(browser: Browser, baseURL: string, name: string): Promise<CheckedPage> {
    const context = await browser.newContext({ baseURL, viewport: PHONE });
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: baseURL });
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    return new CheckedPage(context, page, name);
  }

  /** Fails on any page error so far. */
  expectNoProblems(): void {
    expect(this.problems, this.problems.join("\n")).toEqual([]);
  }

  /**
   * One step of a walk: at a 390 px phone and a 1280 px desktop width, the page has no
   * horizontal overflow and no error, and a screenshot of each is kept. Ends at phone width.
   */
  async step(label: string): Promise<void> {
    this.#shots += 1;
    const dir = path.join(SCREENSHOTS, this.name);
    await mkdir(dir, { recursive: true });
    for (const viewport of [DESKTOP, PHONE]) {
      await this.page.setViewportSize(viewport);
      // Runs in the page: the DOM names come from the browser, not from this file's (Node) types.
      const overflow = await this.page.evaluate("document.documentElement.scrollWidth - window.innerWidth");
      const file = `${String(this.#shots).padStart(2, "0")}-${label}-${viewport.width}.png`;
      await this.page.screenshot({ path: path.join(dir, file), fullPage: true });
      expect(overflow, `${label}: ${overflow} px of horizontal overflow at ${viewport.width} px`).toBe(0);
    }
    // The same phone view in the dark scheme, to look at (colours are the stylesheet's).
    await this.page.emulateMedia({ colorScheme: "dark" });
    const dark = `${String(this.#shots).padStart(2, "0")}-${label}-${PHONE.width}-dark.png`;
    await this.page.screenshot({ path: path.join(dir, dark), fullPage: true });
    await this.page.emulateMedia({ colorScheme: "light" });
    this.expectNoProblems();
  }

  async close(): Promise<void> {
    await this.context.close();
  }
}
