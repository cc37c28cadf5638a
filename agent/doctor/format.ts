import type { DoctorReport, DoctorStatus } from "../../shared/schemas/doctor";

const ICONS: Record<DoctorStatus, string> = { pass: "✓", fail: "✗", warn: "!", skip: "-" };

/** The report for a terminal: one line per check, its fix indented below when there is one. */
export function formatReport(report: DoctorReport): string {
  const width = Math.max(...report.checks.map((check) => check.title.length));
  const lines = [`kai-agent doctor (kai-agent ${report.agentVersion})`, ""];
  for (const check of report.checks) {
    lines.push(`${ICONS[check.status]} ${check.title.padEnd(width)}  ${check.detail}`);
    if (check.fix && check.status !== "pass") lines.push(`  ${" ".repeat(width)}  fix: ${check.fix}`);
  }
  lines.push("", report.summary);
  return `${lines.join("\n")}\n`;
}
