import { buildWeb } from "../../scripts/build-web";

/** Vitest global setup of the browser project: the Worker serves the dashboard from a fresh build. */
export default async function setup(): Promise<void> {
  await buildWeb();
}
