import { vi } from "vitest";

/**
 * Polls `check` until it holds, failing after `ms` with a message naming `what`: vitest's own
 * `vi.waitFor` does the polling; this only turns a false answer into the failure it retries on.
 */
export async function until(
  check: () => boolean | Promise<boolean>,
  ms = 20_000,
  what = "condition",
  intervalMs = 50,
): Promise<void> {
  await vi.waitFor(
    async () => {
      if (!(await check())) throw new Error(`${what} not reached within ${ms} ms`);
    },
    { timeout: ms, interval: intervalMs },
  );
}
