import type { components } from "../../api/schema";
import "./doctor.css";

type DoctorReport = components["schemas"]["DoctorReport"];
type DoctorStatus = DoctorReport["checks"][number]["status"];

const ICONS: Record<DoctorStatus, string> = { pass: "✓", fail: "✗", warn: "!", skip: "–" };
const WORDS: Record<DoctorStatus, string> = { pass: "passed", fail: "failed", warn: "warning", skip: "skipped" };

/** `kai-agent doctor`'s report: the verdict, then one line per check with what was found and the fix. */
export function DoctorReportView({ report }: { report: DoctorReport }) {
  return (
    <section class="doctor" aria-label="Checks" data-doctor={report.ok ? "ok" : "failed"}>
      <p class={report.ok ? "online" : "doctor-failed"}>
        <strong>{report.summary}</strong>
      </p>
      <ul class="doctor-checks">
        {report.checks.map((check) => (
          <li key={check.id} data-check={check.id} data-status={check.status}>
            <span class={`doctor-icon doctor-${check.status}`} role="img" aria-label={WORDS[check.status]}>
              {ICONS[check.status]}
            </span>
            <div>
              <strong>{check.title}</strong>
              <p>{check.detail}</p>
              {check.fix && check.status !== "pass" && (
                <p class="doctor-fix">
                  <span class="muted">Fix: </span>
                  {check.fix}
                </p>
              )}
            </div>
          </li>
        ))}
      </ul>
      <p class="muted">
        kai-agent {report.agentVersion}, checked {new Date(report.checkedAt).toLocaleString()}
      </p>
    </section>
  );
}
