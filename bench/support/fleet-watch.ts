import { type Endpoint, type Timed, timedGet } from "./http-load";

/** One side probe's answer: which endpoint, sent how long after the watch started, and how it went. */
export interface Probe extends Timed {
  name: string;
  sentMs: number;
}

/**
 * Where a relay ping is held while the edge is busy: every `everyMs`, each of `endpoints`
 * (the Worker alone, the Worker with D1 and the host's object, the whole relay) is called
 * once on its own, not waiting for the last call to answer, so a call that hangs does not
 * stop the others from being timed. Returns a stop function that resolves with every answer.
 */
export function watchEdge(endpoints: Endpoint[], everyMs: number, timeoutMs: number): () => Promise<Probe[]> {
  const started = performance.now();
  const calls: Promise<Probe>[] = [];
  const fire = () => {
    for (const endpoint of endpoints) {
      const sentMs = performance.now() - started;
      calls.push(timedGet(endpoint, timeoutMs).then((timed) => ({ ...timed, name: endpoint.name, sentMs })));
    }
  };
  fire();
  const timer = setInterval(fire, everyMs);
  return async () => {
    clearInterval(timer);
    return Promise.all(calls);
  };
}

/** The probes as lines for the log: one per second of the watch, each endpoint's answer in ms (or its error). */
export function probeLines(probes: Probe[]): string[] {
  const bySecond = new Map<number, Probe[]>();
  for (const probe of probes) {
    const second = Math.floor(probe.sentMs / 1000);
    bySecond.set(second, [...(bySecond.get(second) ?? []), probe]);
  }
  return [...bySecond.entries()]
    .sort(([a], [b]) => a - b)
    .map(
      ([second, list]) =>
        `${second} s: ${list
          .map(
            (probe) =>
              `${probe.name} ${probe.ok ? Math.round(probe.ms) : `${probe.status || probe.error} after ${Math.round(probe.ms)}`}`,
          )
          .join(", ")}`,
    );
}
