import { eq } from "drizzle-orm";
import { type DoctorReport, doctorReport } from "../../shared/schemas/doctor";
import type { Db } from "../db/client";
import { doctorReports } from "../db/schema";

/** Keeps `report` as the host's last doctor report, replacing the one before. */
export async function keepDoctorReport(db: Db, hostId: string, report: DoctorReport): Promise<void> {
  const row = { hostId, reportJson: JSON.stringify(report), checkedAt: new Date() };
  await db
    .insert(doctorReports)
    .values(row)
    .onConflictDoUpdate({
      target: doctorReports.hostId,
      set: { reportJson: row.reportJson, checkedAt: row.checkedAt },
    });
}

/**
 * The host's last doctor report, or null before its first run. A row that no longer parses (the
 * report's shape changed since) is null too: it is only ever a past run, never worth an error.
 */
export async function lastDoctorReport(db: Db, hostId: string): Promise<DoctorReport | null> {
  const [row] = await db.select().from(doctorReports).where(eq(doctorReports.hostId, hostId)).limit(1);
  if (!row) return null;
  try {
    const parsed = doctorReport.safeParse(JSON.parse(row.reportJson));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
