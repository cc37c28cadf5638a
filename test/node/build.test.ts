/**
 * vitest strips types without checking them, and the Workers pool bundles differently from
 * `wrangler deploy`. So a suite can be green while `tsc` fails or the deploy bundle does
 * not build. These checks run the real tools, offline, the way CI and deploy do, together with
 * the ones that keep the code in one shape (`npm run lint`): Biome (format, line width 120, and
 * lint), knip (no unused file, export or dependency) and dependency-cruiser (the import
 * boundaries of ARCHITECTURE.md, `.dependency-cruiser.cjs`). A failure prints the tool's report.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { buildAgentBundle } from "../../scripts/agent-bundle";

const ROOT = path.resolve(import.meta.dirname, "../..");
/**
 * How long each tool may run: generous, because its speed is not what is checked, and tsc alone
 * took over two minutes on a shared two-core machine while other test files ran beside it.
 */
const TIMEOUT_MS = 300_000;
const temps: string[] = [];
const tempDir = (prefix: string) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  temps.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

/** Runs a package's bin with this Node; resolves with its exit code and everything it printed. */
function runBin(bin: string, args: string[], env: NodeJS.ProcessEnv = process.env) {
  return new Promise<{ code: number; output: string }>((resolve) => {
    const options = { cwd: ROOT, env, timeout: TIMEOUT_MS - 5_000, maxBuffer: 64 << 20 };
    execFile(process.execPath, [path.join(ROOT, "node_modules", bin), ...args], options, (error, stdout, stderr) => {
      // A numeric code is the tool's exit status; otherwise it never ran or was killed (timeout).
      const code = !error ? 0 : typeof error.code === "number" ? error.code : -1;
      resolve({ code, output: `${stdout}\n${stderr}${code === -1 ? `\n${error?.message}` : ""}` });
    });
  });
}

describe("build", () => {
  it("typechecks: tsc --noEmit exits 0", { timeout: TIMEOUT_MS }, async () => {
    const { code, output } = await runBin("typescript/bin/tsc", ["--noEmit", "--pretty", "false"]);
    expect(code, `tsc --noEmit failed:\n${output}`).toBe(0);
  });

  it("typechecks the dashboard: tsc --noEmit -p web exits 0", { timeout: TIMEOUT_MS }, async () => {
    const { code, output } = await runBin("typescript/bin/tsc", ["--noEmit", "--pretty", "false", "-p", "web"]);
    expect(code, `tsc --noEmit -p web failed:\n${output}`).toBe(0);
  });

  it("bundles for deploy: wrangler deploy --dry-run writes a Worker bundle", { timeout: TIMEOUT_MS }, async () => {
    const outdir = tempDir("kai-bundle-");
    // No metrics, no Request.cf download, wrangler's config/logs in a throwaway folder.
    const env = {
      ...process.env,
      WRANGLER_SEND_METRICS: "false",
      CLOUDFLARE_CF_FETCH_ENABLED: "false",
      XDG_CONFIG_HOME: tempDir("kai-xdg-"),
    };
    const { code, output } = await runBin("wrangler/bin/wrangler.js", ["deploy", "--dry-run", "--outdir", outdir], env);
    expect(code, `wrangler deploy --dry-run failed:\n${output}`).toBe(0);
    const bundles = readdirSync(outdir).filter((name) => /\.m?js$/.test(name));
    expect(bundles, `no bundle in ${outdir}:\n${output}`).not.toHaveLength(0);
    expect(statSync(path.join(outdir, bundles[0] as string)).size).toBeGreaterThan(1_000);
  });

  it("is formatted and lint-free: biome check exits 0 (`npm run format` fixes most)", {
    timeout: TIMEOUT_MS,
  }, async () => {
    const { code, output } = await runBin("@biomejs/biome/bin/biome", ["check", "--colors=off", "."]);
    expect(output, output).toMatch(/Checked \d+ files/);
    expect(code, `biome check failed:\n${output}`).toBe(0);
  });

  it("has no unused file, export or dependency: knip exits 0", { timeout: TIMEOUT_MS }, async () => {
    const { code, output } = await runBin("knip/bin/knip.js", ["--no-progress"]);
    expect(code, `knip failed:\n${output}`).toBe(0);
  });

  it("bundles an agent that builds no reply or API schema and carries no left-out module", {
    timeout: TIMEOUT_MS,
  }, async () => {
    // The lint rule sees one import at a time; the bundle is everything the agent loads.
    const bundled = await buildAgentBundle(path.join(tempDir("kai-agent-bundle-"), "kai-agent.mjs"));
    expect(bundled).toContain("shared/commands.ts");
    const heavy =
      /^shared\/(command-replies|stream-frames|schemas\/(agent-sessions|flexy|services|workspace|user-events))\.ts$/;
    expect(bundled.filter((file) => heavy.test(file))).toEqual([]);
    const leftOut = /node_modules\/(ssh2|tar-fs|tar-stream|readable-stream|@grpc|protobufjs)\//;
    expect(bundled.filter((file) => leftOut.test(file))).toEqual([]);
  });

  it("keeps the import boundaries: dependency-cruiser finds no violation", { timeout: TIMEOUT_MS }, async () => {
    const dirs = ["edge", "agent", "shared", "web", "test", "bench", "scripts"];
    const { code, output } = await runBin("dependency-cruiser/bin/dependency-cruise.mjs", dirs);
    expect(output, output).toMatch(/no dependency violations found/);
    expect(code, `dependency-cruiser failed:\n${output}`).toBe(0);
  });
});
