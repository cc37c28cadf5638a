import { useEffect, useRef } from "preact/hooks";

/**
 * Calls `tick` every `ms` while the page is visible, never twice at once: a slow answer delays
 * the next call instead of piling calls up. There is no per-user event stream yet, so live
 * state on these pages is polled; hidden tabs stop asking.
 */
export function usePoll(tick: () => Promise<void>, ms: number) {
  const latest = useRef(tick);
  latest.current = tick;
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let stopped = false;
    const loop = async () => {
      if (!document.hidden) await latest.current().catch(() => undefined);
      if (!stopped) timer = setTimeout(loop, ms);
    };
    timer = setTimeout(loop, ms);
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [ms]);
}
