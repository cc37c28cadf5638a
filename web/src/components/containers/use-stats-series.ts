import { useState } from "preact/hooks";
import { type ApiError, asApiError } from "../../api/api-error";
import { api, call } from "../../api/client";
import type { components } from "../../api/schema";
import type { StatsSeries } from "./stats-chart";
import { usePoll } from "./use-poll";

type Stats = components["schemas"]["ServiceStats"];

/** A gentle poll: the agent keeps Docker's stats stream open, so each answer is a fresh sample. */
const SAMPLE_MS = 2000;
/** Ten minutes of samples; older ones fall off the left of the chart. */
const KEEP = 300;

const EMPTY: StatsSeries = { times: [], cpu: [], memory: [] };

function append(series: StatsSeries, stats: Stats): StatsSeries {
  const time = Date.parse(stats.timestamp) / 1000;
  if (series.times.at(-1) === time) return series;
  const keep = <T>(values: T[], next: T) => [...values, next].slice(-KEEP);
  return {
    times: keep(series.times, time),
    cpu: keep(series.cpu, stats.cpu),
    memory: keep(series.memory, stats.memory),
  };
}

/**
 * The container's stats, sampled every few seconds while `active` (a stopped container has
 * none to give): the latest sample, the series so far for the chart, and the last failure.
 */
export function useStatsSeries(hostId: string, id: string, active: boolean) {
  const [series, setSeries] = useState<StatsSeries>(EMPTY);
  const [latest, setLatest] = useState<Stats>();
  const [error, setError] = useState<ApiError>();
  usePoll(async () => {
    if (!active) return;
    try {
      const stats = (
        await call(api.GET("/api/services/{id}/stats", { params: { path: { id }, query: { host: hostId } } }))
      ).data;
      setLatest(stats);
      setSeries((current) => append(current, stats));
      setError(undefined);
    } catch (failure) {
      setError(asApiError(failure));
    }
  }, SAMPLE_MS);
  return { series, latest, error };
}
