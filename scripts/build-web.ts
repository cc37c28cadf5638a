import path from "node:path";
import { build } from "vite";
import { buildAgentRelease } from "./agent-bundle";

const WEB = path.resolve(import.meta.dirname, "..", "web");

/**
 * Builds what the Worker serves as static files (wrangler.toml `[assets]`) into web/dist: the
 * dashboard, and the kai-agent release in web/dist/agent (bundle and manifest, which install.sh
 * and `kai-agent upgrade` fetch). A few seconds.
 */
export async function buildWeb(): Promise<void> {
  // Vite empties web/dist first, so the release goes in after it.
  await build({ root: WEB, logLevel: "warn" });
  await buildAgentRelease(path.join(WEB, "dist", "agent"));
}

if (process.argv[1] === import.meta.filename) await buildWeb();
