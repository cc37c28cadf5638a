import { mkdirSync } from "node:fs";
import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

/** Test-only secrets: long enough to pass configuration checks, never used outside tests. */
export const TEST_BINDINGS = {
  ENVIRONMENT: "test",
  JWT_SECRET: "test-jwt-secret-0123456789abcdef0123456789abcdef",
  PASSWORD_PEPPER: "test-pepper-0123456789abcdef",
  ADMIN_EMAILS: "admin@example.com",
  ALLOWED_ORIGINS: "https://app.kai.test",
  // Tests call the Worker through a binding (no request.cf, not production) and play many
  // clients by sending CF-Connecting-IP: trust it here as a self-hoster's proxy header.
  TRUSTED_CLIENT_IP_HEADER: "CF-Connecting-IP",
};

/**
 * Test files run side by side, this many at a time per group. The end-to-end and browser files
 * spend most of their time waiting (on workerd, Docker, child agents, Chromium, timers), not
 * computing, so even two cores run three of them at once; each is independent of the others
 * (its own Worker on a free port with its own state folder, users, hosts, container labels and
 * temporary folders). KAI_TEST_WORKERS overrides it (1: one file at a time, to debug).
 */
const E2E_WORKERS = workers(3);
/** The Workers-pool and Node unit files: mostly CPU, yet Docker and child processes leave room for two. */
const UNIT_WORKERS = workers(2);

/** KAI_TEST_WORKERS when it is a whole number of at least 1, else `fallback`. */
function workers(fallback: number): number {
  const asked = Number(process.env.KAI_TEST_WORKERS);
  return Number.isInteger(asked) && asked >= 1 ? asked : fallback;
}

export default defineConfig(async () => {
  // wrangler.toml's [assets] folder must exist for the Workers pool (`npm test` builds the dashboard into it).
  mkdirSync(path.join(import.meta.dirname, "web", "dist"), { recursive: true });
  const migrations = await readD1Migrations(path.join(import.meta.dirname, "migrations"));
  return {
    test: {
      projects: [
        {
          plugins: [
            cloudflareTest({
              wrangler: { configPath: "./wrangler.toml" },
              miniflare: { bindings: { ...TEST_BINDINGS, TEST_MIGRATIONS: migrations } },
            }),
          ],
          test: {
            name: "worker",
            maxWorkers: UNIT_WORKERS,
            include: ["test/worker/**/*.test.ts", "test/adversarial/worker/**/*.test.ts"],
            setupFiles: ["test/worker/apply-migrations.ts", "test/worker/query-plans.ts"],
            // Not vitest's 5 s: a file of many real requests through workerd can take longer on
            // a busy machine, and speed is for the benchmarks, never a test's verdict.
            testTimeout: 30_000,
          },
        },
        {
          test: {
            name: "node",
            environment: "node",
            include: [
              "test/node/**/*.test.ts",
              "test/adversarial/node/**/*.test.ts",
              "edge/**/*.test.ts",
              "shared/**/*.test.ts",
              "agent/**/*.test.ts",
            ],
            maxWorkers: UNIT_WORKERS,
            testTimeout: 60_000,
          },
        },
        {
          test: {
            name: "e2e",
            environment: "node",
            include: ["test/e2e/**/*.test.ts", "test/adversarial/e2e/**/*.test.ts"],
            // Each file starts its own Worker and agent: a group of its own, after the unit files,
            // shared with the browser files so a slow file of either overlaps the others.
            maxWorkers: E2E_WORKERS,
            sequence: { groupOrder: 1 },
            globalSetup: ["test/support/warm-edge-state.ts"],
            testTimeout: 120_000,
            hookTimeout: 180_000,
          },
        },
        {
          test: {
            name: "browser",
            environment: "node",
            include: ["test/browser/**/*.test.ts"],
            // A real Chromium against a real Worker (and agent), in the end-to-end files' group.
            maxWorkers: E2E_WORKERS,
            sequence: { groupOrder: 1 },
            globalSetup: ["test/browser/build-web.ts", "test/support/warm-edge-state.ts"],
            testTimeout: 120_000,
            hookTimeout: 180_000,
          },
        },
      ],
    },
  };
});
