import type { ResultOf } from "../../shared/commands";
import { messageOf } from "../../shared/errors";
import { HOST_STATS_TOPIC } from "../../shared/protocol";
import type { Logger } from "../log";

export interface StatsReporterOptions {
  /** Takes one snapshot (the `system.stats` handler's answer); aborts with `signal`. */
  stats: (signal: AbortSignal) => Promise<ResultOf<"system.stats">>;
  publish: (topic: string, data: unknown) => void;
  /** False once the socket is closing: a snapshot taken then has nobody to go to. */
  canPublish: () => boolean;
  intervalMs: number;
  log: Logger;
  /** Aborts as the connection ends; the reporter stops with it. */
  signal: AbortSignal;
}

/**
 * Publishes a compact stats snapshot of the host on HOST_STATS_TOPIC every `intervalMs`
 * while one connection is welcomed, for the owner's live feed (dashboards). The next sample
 * is scheduled only once the last one is done, so a slow engine never piles samples up.
 * A failed sample is logged (once per run of failures) and the reporter goes on.
 */
export function reportHostStats(options: StatsReporterOptions): void {
  const { stats, publish, canPublish, intervalMs, log, signal } = options;
  let failing = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const sample = async () => {
    try {
      const snapshot = await stats(signal);
      failing = false;
      if (canPublish() && !signal.aborted) publish(HOST_STATS_TOPIC, snapshot);
    } catch (error) {
      if (!failing && !signal.aborted) log("warn", "host stats sample failed", { error: messageOf(error) });
      failing = true;
    }
    if (!signal.aborted) timer = setTimeout(sample, intervalMs);
  };
  if (signal.aborted) return;
  timer = setTimeout(sample, 0);
  signal.addEventListener("abort", () => clearTimeout(timer), { once: true });
}
