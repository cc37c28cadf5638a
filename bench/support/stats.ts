/** Small statistics over samples; every function copes with an empty list. */

function mean(values: number[]): number {
  return values.reduce((sum, value) => sum + value, 0) / Math.max(1, values.length);
}

/** Nearest-rank percentile (`p` in 0..1): a value that was really measured, never an interpolation. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil(p * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))] ?? 0;
}

export function median(values: number[]): number {
  return percentile(values, 0.5);
}

/** Least-squares slope of `y` over `x`. */
export function slope(points: { x: number; y: number }[]): number {
  const mx = mean(points.map((point) => point.x));
  const my = mean(points.map((point) => point.y));
  let num = 0;
  let den = 0;
  for (const { x, y } of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

export function round(value: number, digits = 1): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
