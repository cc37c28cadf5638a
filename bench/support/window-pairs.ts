import { median, percentile } from "./stats";

/**
 * A latency ratio judged on pairs of windows instead of on pooled samples: with the shared
 * machine's load coming and going, one busy minute pooled into one side moved its p99 by a
 * third. Each pair is a window with the load and one without, measured next to each other,
 * so what drifts over minutes weighs on both of a pair; the figure is the median of the pairs'
 * own ratios (an odd number of pairs makes it one pair's ratio, never a blend of two), and
 * the spread says how far the pairs disagreed.
 */
export interface PairedRatio {
  /** crowded / alone per pair, in the order measured. */
  ratios: number[];
  median: number;
  min: number;
  max: number;
  /** The quantile per window, ms: alone[i] and crowded[i] are pair i's. */
  alone: number[];
  crowded: number[];
}

/** `alone[i]` and `crowded[i]`: pair i's samples (ms); `q` the quantile compared, in 0..1. */
export function pairedRatio(alone: number[][], crowded: number[][], q: number): PairedRatio {
  if (alone.length !== crowded.length || alone.length === 0) {
    throw new Error(`pairs need as many windows a side, at least one: ${alone.length} against ${crowded.length}`);
  }
  const aloneQ = alone.map((samples) => percentile(samples, q));
  const crowdedQ = crowded.map((samples) => percentile(samples, q));
  const ratios = crowdedQ.map((value, index) => value / (aloneQ[index] as number));
  return {
    ratios,
    median: median(ratios),
    min: Math.min(...ratios),
    max: Math.max(...ratios),
    alone: aloneQ,
    crowded: crowdedQ,
  };
}
