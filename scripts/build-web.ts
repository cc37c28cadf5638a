import path from "node:path";
import { build } from "vite";

const WEB = path.resolve(import.meta.dirname, "..", "web");

/** Builds the dashboard into web/dist, which the Worker serves (wrangler.toml `[assets]`); about a second. */
export async function buildWeb(): Promise<void> {
  await build({ root: WEB, logLevel: "warn" });
}
