import { readdir } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";

/**
 * `npm run bench`: runs every benchmark module of bench/ (a file exporting `benchmark`)
 * and prints one table. Benchmarks report; they never fail on timing: the exit code is
 * non-zero only when a benchmark could not run at all.
 */

/** One measured figure set against what it is meant to beat. */
export interface Figure {
  figure: string;
  /** What was measured, in `unit`. */
  value: number;
  baseline: number;
  unit: string;
  /** The figure meets its target when value / baseline is at most this; undefined: for information. */
  targetRatio?: number;
  /** How the numbers were obtained, shown under the table. */
  note?: string;
}

export interface Benchmark {
  name: string;
  run(): Promise<Figure[]>;
}

const HERE = import.meta.dirname;

async function modules(): Promise<Benchmark[]> {
  const files = (await readdir(HERE)).filter((file) => file.endsWith(".ts") && file !== "run.ts").sort();
  const found: Benchmark[] = [];
  for (const file of files) {
    const loaded: Record<string, unknown> = await import(pathToFileURL(path.join(HERE, file)).href);
    const candidate = loaded.benchmark;
    if (isBenchmark(candidate)) found.push(candidate);
  }
  return found;
}

function isBenchmark(value: unknown): value is Benchmark {
  return typeof value === "object" && value !== null && "name" in value && "run" in value && typeof value.run === "function";
}

function row(cells: string[], widths: number[]): string {
  return cells.map((cell, index) => cell.padEnd(widths[index] ?? 0)).join("  ");
}

function format(value: number, unit: string): string {
  return `${value >= 100 ? value.toFixed(0) : value.toFixed(1)} ${unit}`;
}

async function main(): Promise<number> {
  const rows: string[][] = [];
  const notes: string[] = [];
  let broken = 0;
  for (const bench of await modules()) {
    process.stderr.write(`running ${bench.name}…\n`);
    try {
      for (const figure of await bench.run()) {
        const ratio = figure.value / figure.baseline;
        const target = figure.targetRatio === undefined ? "(info)" : `≤ ${figure.targetRatio}×`;
        const verdict = figure.targetRatio === undefined ? "-" : ratio <= figure.targetRatio ? "meets target" : "MISSES target";
        rows.push([figure.figure, format(figure.value, figure.unit), format(figure.baseline, figure.unit), `${ratio.toFixed(4)}×`, target, verdict]);
        if (figure.note) notes.push(`- ${figure.figure}: ${figure.note}`);
      }
    } catch (error) {
      broken += 1;
      process.stderr.write(`${bench.name} could not run: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    }
  }
  const header = ["figure", "measured", "baseline", "ratio", "target", "verdict"];
  const widths = header.map((_, column) => Math.max(...[header, ...rows].map((cells) => (cells[column] ?? "").length)));
  process.stdout.write(`\n${row(header, widths)}\n${widths.map((width) => "-".repeat(width)).join("  ")}\n`);
  for (const cells of rows) process.stdout.write(`${row(cells, widths)}\n`);
  if (notes.length > 0) process.stdout.write(`\n${notes.join("\n")}\n`);
  return broken > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
