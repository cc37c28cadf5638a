import type { Figure } from "../run";
import { formatRatio, formatValue } from "./format";

/** One line of the results: what the table, the JSON, the README and the chart are made of. */
export interface Row {
  benchmark: string;
  figure: string;
  value: number;
  unit: string;
  baseline: number | null;
  baselineLabel: string | null;
  ratio: number | null;
  measuredText: string;
  baselineText: string;
  ratioText: string;
  targetText: string;
  /** null: a figure shown for information, with no target. */
  met: boolean | null;
  verdict: string;
  /** Each numeric condition of the target, for the chart: `measured` against `limit`. */
  bars: { label: string; measured: number; limit: number; atMost: boolean; met: boolean }[];
  note?: string;
  details?: unknown;
}

/** Judges a figure against its target; a miss says in one sentence what fell short and why. */
export function evaluate(benchmark: string, figure: Figure): Row {
  const ratio = figure.baseline !== undefined && figure.baseline !== 0 ? figure.value / figure.baseline : null;
  const target = { ...figure.target, ...(figure.targetRatio !== undefined ? { ratioAtMost: figure.targetRatio } : {}) };
  const parts: string[] = [];
  const failures: string[] = [];
  const bars: Row["bars"] = [];
  const value = formatValue(figure.value, figure.unit);
  const vs = `the ${figure.baselineLabel ?? "baseline"}`;

  if (target.ratioAtMost !== undefined) {
    parts.push(`≤ ${target.ratioAtMost}×`);
    const met = ratio !== null && ratio <= target.ratioAtMost;
    if (ratio !== null) bars.push({ label: `vs ${vs}`, measured: ratio, limit: target.ratioAtMost, atMost: true, met });
    if (!met)
      failures.push(
        ratio === null
          ? "there was no baseline to compare with"
          : `it is ${formatRatio(ratio)} ${vs}, above the ${target.ratioAtMost}× target`,
      );
  }
  if (target.ratioAtLeast !== undefined) {
    parts.push(`≥ ${target.ratioAtLeast}×`);
    const met = ratio !== null && ratio >= target.ratioAtLeast;
    if (ratio !== null)
      bars.push({ label: `vs ${vs}`, measured: ratio, limit: target.ratioAtLeast, atMost: false, met });
    if (!met)
      failures.push(
        ratio === null
          ? "there was no baseline to compare with"
          : `it is only ${formatRatio(ratio)} ${vs}, below the ${target.ratioAtLeast}× target`,
      );
  }
  if (target.atMost !== undefined) {
    const limit = formatValue(target.atMost, figure.unit);
    parts.push(`≤ ${limit}`);
    const met = figure.value <= target.atMost;
    bars.push({ label: `vs the ${limit} limit`, measured: figure.value / target.atMost, limit: 1, atMost: true, met });
    if (!met) failures.push(`${value} is above the ${limit} limit`);
  }
  if (target.atLeast !== undefined) {
    const limit = formatValue(target.atLeast, figure.unit);
    parts.push(`≥ ${limit}`);
    const met = figure.value >= target.atLeast;
    bars.push({
      label: `vs the ${limit} floor`,
      measured: figure.value / target.atLeast,
      limit: 1,
      atMost: false,
      met,
    });
    if (!met) failures.push(`${value} is below the ${limit} floor`);
  }
  for (const check of figure.checks ?? []) {
    parts.push(check.label);
    if (!check.ok) failures.push(check.failure);
  }

  const judged = parts.length > 0;
  const met = judged ? failures.length === 0 : null;
  const sentence = failures.length > 0 ? `${failures.join("; ")}${figure.why ? `: ${figure.why}` : ""}.` : "";
  return {
    benchmark,
    figure: figure.figure,
    value: figure.value,
    unit: figure.unit,
    baseline: figure.baseline ?? null,
    baselineLabel: figure.baselineLabel ?? null,
    ratio,
    measuredText: figure.display ?? value,
    baselineText:
      figure.baselineDisplay ??
      (figure.baseline === undefined
        ? "-"
        : `${formatValue(figure.baseline, figure.unit)}${figure.baselineLabel ? ` (${figure.baselineLabel})` : ""}`),
    ratioText: ratio === null ? "-" : formatRatio(ratio),
    targetText: figure.targetLabel ?? (judged ? parts.join(", ") : "(info)"),
    met,
    verdict: met === null ? "-" : met ? "met" : `MISSED: ${sentence}`,
    bars,
    ...(figure.note ? { note: figure.note } : {}),
    ...(figure.details !== undefined ? { details: figure.details } : {}),
  };
}
