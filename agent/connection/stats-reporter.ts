import type { ResultOf } from "../../shared/command-replies";
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

/** Switches a running reporter on and off as the edge asks (the edge's `stats` frame). */
export interface StatsReporter {
  /** On: a snapshot at once, then one every interval. Off: none until switched on again. */
  send(wanted: boolean): void;
}

/**
 * Publishes a compact stats snapshot of the host on HOST_STATS_TOPIC every `intervalMs`
 * while one connection is welcomed and the owner's live feed wants them. It starts on (the
 * first snapshot at once): the feed's answer to it tells the edge whether anyone watches, and
 * the edge switches the reporter off when nobody does, so a connect costs no extra call to
 * find out. The next sample is scheduled only once the last one is done, so a slow engine
 * never piles samples up. A failed sample is logged (once per run of failures) and the
 * reporter goes on.
 */
export function reportHostStats(options: StatsReporterOptions): StatsReporter {
  const { stats, publish, canPublish, intervalMs, log, signal } = options;
  let failing = false;
  let wanted = true;
  /** Bumped by every switch, so a sample already in flight neither publishes nor reschedules after one. */
  let run = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const sample = async (mine: number) => {
    try {
      const snapshot = await stats(signal);
      failing = false;
      if (mine === run && canPublish() && !signal.aborted) {
        publish(HOST_STATS_TOPIC, snapshot);
        log("debug", "host stats published");
      }
    } catch (error) {
      if (!failing && !signal.aborted) log("warn", "host stats sample failed", { error: messageOf(error) });
      failing = true;
    }
    if (mine === run && !signal.aborted) timer = setTimeout(() => sample(mine), intervalMs);
  };
  const start = () => {
    run += 1;
    clearTimeout(timer);
    const mine = run;
    timer = setTimeout(() => sample(mine), 0);
  };
  if (!signal.aborted) {
    start();
    signal.addEventListener("abort", () => clearTimeout(timer), { once: true });
  }
  return {
    send(next) {
      if (next === wanted || signal.aborted) return;
      wanted = next;
      log("info", next ? "host stats on: the owner's feed has a viewer" : "host stats off: nobody watches the feed");
      if (next) start();
      else {
        run += 1;
        clearTimeout(timer);
      }
    },
  };
}
