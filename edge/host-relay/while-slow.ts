/**
 * Awaits `work` and calls `onSlow` once if it is still under way after `ms`: never when it
 * settles (fulfilled or rejected) sooner, and never after it settled, so fast work costs no
 * call. What `work` settles with is passed on as is; `onSlow` does not delay it.
 */
export async function whileSlow<T>(work: Promise<T>, ms: number, onSlow: () => void): Promise<T> {
  const timer = setTimeout(onSlow, ms);
  try {
    return await work;
  } finally {
    clearTimeout(timer);
  }
}
