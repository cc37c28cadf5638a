import { beforeAll, beforeEach } from "vitest";

/**
 * Runs `setup` once before the tests of the current scope (file or describe), and makes
 * every one of them fail with its error if it threw.
 *
 * Why not a plain beforeAll: when one throws, vitest reports the tests as skipped, and a
 * skipped Docker test must count as failed. So the error is kept and rethrown from a
 * beforeEach. Guard cleanups with `ready`, which is true only once `setup` has succeeded:
 * after a failed setup there is nothing of theirs to clean up.
 */
export function setupOrFail(
  setup: () => Promise<void>,
  { timeoutMs = 120_000 }: { timeoutMs?: number } = {},
): { readonly ready: boolean } {
  let ready = false;
  let error: unknown;
  beforeAll(async () => {
    try {
      await setup();
      ready = true;
    } catch (caught) {
      error = caught;
    }
  }, timeoutMs);
  beforeEach(() => {
    if (!ready) throw error;
  });
  return {
    get ready() {
      return ready;
    },
  };
}
