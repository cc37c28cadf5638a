/** How numbers read in the table, the README and the chart. */

const grouped = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

export function formatNumber(value: number): string {
  const size = Math.abs(value);
  if (size >= 1000) return grouped.format(value);
  if (size >= 100 || Number.isInteger(value)) return value.toFixed(0);
  if (size >= 1 || size === 0) return value.toFixed(1);
  return value.toPrecision(2);
}

/** A value with its unit; milliseconds from 10 s up read as seconds. */
export function formatValue(value: number, unit: string): string {
  if (unit === "ms" && Math.abs(value) >= 10_000) return `${formatNumber(value / 1000)} s`;
  if (unit === "%") return `${formatNumber(value)}%`;
  return `${formatNumber(value)} ${unit}`;
}

export function formatRatio(ratio: number): string {
  return `${ratio >= 0.1 ? ratio.toFixed(2) : ratio.toPrecision(2)}×`;
}
