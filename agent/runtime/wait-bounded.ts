/**
 * Waits for `work` at most `ms` (and no longer than `signal` stays unaborted); says whether
 * `work` settled in time (its failure is thrown). The work itself is not stopped: a caller that
 * gives up goes on without its answer.
 */
export async function waitBounded(work: Promise<unknown>, ms: number, signal?: AbortSignal): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort = () => {};
  const timeout = new Promise<false>((resolve) => {
    // Not unref'd: a caller is waiting, and this bounds the wait.
    timer = setTimeout(() => resolve(false), ms);
    onAbort = () => resolve(false);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
  try {
    return await Promise.race([work.then(() => true as const), timeout]);
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
  }
}
