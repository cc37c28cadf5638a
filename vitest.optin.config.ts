import { defineConfig } from "vitest/config";

/**
 * Opt-in tests, outside `npm test` (not even counted as skipped): they need things the default
 * suite must not, such as the real Claude Code ACP adapter (installed on demand, ~160 MB).
 * Run with `npm run test:claude`.
 */
export default defineConfig({
  test: {
    name: "optin",
    environment: "node",
    include: ["test/optin/**/*.test.ts"],
    fileParallelism: false,
    testTimeout: 180_000,
    // The first run installs the adapter in beforeAll: a minute or two on a fresh machine.
    hookTimeout: 600_000,
  },
});
