import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync } from "node:fs";
import { cp, mkdtemp, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { startDevWorker } from "./dev-worker";

const run = promisify(execFile);
export const ROOT = path.resolve(import.meta.dirname, "../..");

/**
 * Secrets and settings for end-to-end runs; never used outside tests. The agent timeout stays
 * production's (30 s): a Docker call on a busy machine (files run side by side) can take more
 * than a few seconds, and only the files that test the timeout itself shorten it.
 */
export const E2E_VARS = {
  ENVIRONMENT: "development",
  JWT_SECRET: "e2e-jwt-secret-0123456789abcdef0123456789abcdef",
  PASSWORD_PEPPER: "e2e-pepper-0123456789abcdef",
};

export const WRANGLER_ENV = {
  ...process.env,
  WRANGLER_SEND_METRICS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  XDG_CONFIG_HOME: path.join(os.tmpdir(), "kai-e2e-xdg"),
};

/** A loopback port nothing listens on when asked (a closed port for a test to dial). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface Edge {
  url: string;
  /**
   * The Worker's own workerd, without wrangler's dev ProxyWorker in front (dev-worker.ts). An
   * ephemeral port: unlike `url`, it changes when the edge is restarted.
   */
  workerUrl: string;
  port: number;
  persistDir: string;
  stop(): Promise<void>;
}

/** Applies the project's migrations to a local D1 state folder, exactly as `npm start` does. */
export async function migrate(persistDir: string): Promise<void> {
  await run("npx", ["wrangler", "d1", "migrations", "apply", "DB", "--local", "--persist-to", persistDir], {
    cwd: ROOT,
    env: WRANGLER_ENV,
  });
}

/**
 * A state folder with every migration applied, made once per set of migrations (and wrangler
 * version, whose local D1 format it is) and kept between runs, like the busybox image: a new
 * edge starts from a copy instead of running `wrangler d1 migrations apply` again, which costs
 * a wrangler process and a workerd (seconds of CPU) per edge. Built aside and renamed into
 * place, so files starting at once never see a half-migrated folder.
 */
const MIGRATED_MARKER = ".kai-migrated";

export async function migratedState(): Promise<string> {
  const migrations = path.join(ROOT, "migrations");
  // wrangler.toml too: the local D1 file is named after the binding's database_id.
  const hash = createHash("sha256")
    .update(await readFile(path.join(ROOT, "node_modules", "wrangler", "package.json")))
    .update(await readFile(path.join(ROOT, "wrangler.toml")));
  for (const file of (await readdir(migrations)).filter((name) => name.endsWith(".sql")).sort())
    hash.update(file).update(await readFile(path.join(migrations, file)));
  const state = path.join(os.tmpdir(), `kai-e2e-migrated-${hash.digest("hex").slice(0, 16)}`);
  // The marker is written last: a folder /tmp's cleaner thinned out, or one left half-made, has none.
  const complete = path.join(state, MIGRATED_MARKER);
  if (existsSync(complete)) return state;
  const building = await mkdtemp(path.join(os.tmpdir(), "kai-e2e-migrating-"));
  await migrate(building);
  await writeFile(path.join(building, MIGRATED_MARKER), "");
  if (existsSync(state) && !existsSync(complete)) {
    // An incomplete folder is moved aside in one step (another file may be copying a complete one).
    const stale = `${building}-stale`;
    await rename(state, stale).catch(() => undefined);
    await rm(stale, { recursive: true, force: true });
  }
  // Another file may have won the race: its folder is the same, keep it.
  await rename(building, state).catch(async (error) => {
    await rm(building, { recursive: true, force: true });
    if (!existsSync(complete)) throw error;
  });
  return state;
}

/**
 * Starts the real Worker on local workerd (wrangler's dev server, no watching), with its
 * D1 and Durable Objects persisted in `persistDir` so a restart keeps the data.
 */
export async function startEdge(
  options: { persistDir?: string; port?: number; vars?: Record<string, string> } = {},
): Promise<Edge> {
  let persistDir = options.persistDir;
  if (!persistDir) {
    persistDir = await mkdtemp(path.join(os.tmpdir(), "kai-e2e-state-"));
    await cp(await migratedState(), persistDir, { recursive: true });
  }
  // Port 0: workerd takes a free port itself. Picking one first and handing it over leaves a
  // moment in which another process (files run side by side) can take it; a restarted edge
  // comes back at the port its first start got.
  const port = options.port ?? 0;
  // wrangler.toml serves the dashboard from web/dist and refuses to start without the folder;
  // `npm test` builds it, and an API-only run needs no more than the folder.
  mkdirSync(path.join(ROOT, "web", "dist"), { recursive: true });
  Object.assign(process.env, { WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" });
  const vars = { ...E2E_VARS, ...options.vars };
  const worker = await startDevWorker({
    config: path.join(ROOT, "wrangler.toml"),
    bindings: Object.fromEntries(
      Object.entries(vars).map(([name, value]) => [name, { type: "plain_text" as const, value }]),
    ),
    dev: {
      server: { hostname: "127.0.0.1", port },
      inspector: false,
      persist: persistDir,
      watch: false,
      logLevel: "warn",
    },
  });
  const { url, workerUrl } = worker;
  return { url, workerUrl, port: Number(new URL(url).port), persistDir, stop: () => worker.dispose() };
}
