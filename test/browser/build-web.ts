import { buildWeb } from "../../scripts/build-web";

/**
 * Vitest global setup of the browser project: the Worker serves the dashboard from a fresh build.
 * `npm test` has just made that build (every Worker needs web/dist) and says so in
 * KAI_WEB_BUILT: building it twice would only cost time.
 */
export default async function setup(): Promise<void> {
  if (process.env.KAI_WEB_BUILT === "1") return;
  await buildWeb();
}
