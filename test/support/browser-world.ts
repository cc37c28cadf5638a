import type { Browser } from "playwright-core";
import { CheckedPage, launchBrowser, signIn } from "./browser";
import { type Edge, startEdge } from "./edge-server";
import { type Session, signUp } from "./kai-client";

/** One browser test file's world: the Worker, Chromium, a signed-up user and one checked tab. */
export interface BrowserWorld {
  edge: Edge;
  browser: Browser;
  session: Session;
  tab: CheckedPage;
  close(): Promise<void>;
}

/**
 * Starts the Worker and Chromium side by side, signs a new user up, and opens a tab (screenshots
 * named after `name`), signed in unless `signedIn` is false (a test of the signed-out way in).
 */
export async function openBrowserWorld(name: string, options: { signedIn?: boolean } = {}): Promise<BrowserWorld> {
  const [edge, browser] = await Promise.all([startEdge(), launchBrowser()]);
  const session = await signUp(edge.url);
  const tab = await CheckedPage.open(browser, edge.url, name);
  if (options.signedIn !== false) await signIn(tab.page, session.email);
  const world: BrowserWorld = {
    edge,
    browser,
    session,
    tab,
    // The world's edge at closing time: a test that restarts the Worker puts the new one in `edge`.
    async close() {
      await world.tab.close();
      await world.browser.close();
      await world.edge.stop();
    },
  };
  return world;
}
