import { readFile, writeFile } from "node:fs/promises";
import type { Row } from "./verdict";

/** The results as the console table, the README block and the JSON document. */

const COLUMNS = ["figure", "measured", "baseline", "ratio", "target", "verdict"];
const cells = (row: Row) => [
  row.figure,
  row.measuredText,
  row.baselineText,
  row.ratioText,
  row.targetText,
  row.verdict,
];

export function consoleTable(rows: Row[]): string {
  const all = [COLUMNS, ...rows.map(cells)];
  const widths = COLUMNS.map((_, column) => Math.max(...all.map((line) => (line[column] ?? "").length)));
  const line = (values: string[]) =>
    values.map((value, index) => (index === values.length - 1 ? value : value.padEnd(widths[index] ?? 0))).join("  ");
  return [line(COLUMNS), widths.map((width) => "-".repeat(width)).join("  "), ...all.slice(1).map(line)].join("\n");
}

export function notes(rows: Row[]): string[] {
  return rows.filter((row) => row.note).map((row) => `${row.figure}: ${row.note}`);
}

function markdownTable(rows: Row[]): string {
  const escapeCell = (text: string) => text.replaceAll("|", "\\|");
  return [
    `| ${COLUMNS.join(" | ")} |`,
    `|${COLUMNS.map(() => "---").join("|")}|`,
    ...rows.map((row) => `| ${cells(row).map(escapeCell).join(" | ")} |`),
  ].join("\n");
}

const README_START = "<!-- bench:start -->";
const README_END = "<!-- bench:end -->";

/** Rewrites the block between the README's bench markers; false when the markers are missing. */
export async function updateReadme(readmePath: string, rows: Row[], heading: string): Promise<boolean> {
  const text = await readFile(readmePath, "utf8");
  const start = text.indexOf(README_START);
  const end = text.indexOf(README_END);
  if (start < 0 || end < start) return false;
  const how = notes(rows).map((note) => `- ${note}`);
  const block = [
    README_START,
    heading,
    "",
    markdownTable(rows),
    "",
    "<details><summary>How each figure was measured</summary>",
    "",
    ...how,
    "",
    "</details>",
    README_END,
  ].join("\n");
  await writeFile(readmePath, `${text.slice(0, start)}${block}${text.slice(end + README_END.length)}`);
  return true;
}
