import { getTableColumns } from "drizzle-orm";
import { database } from "../db/client";
import { auditLog } from "../db/schema";

export type AuditRow = typeof auditLog.$inferInsert;

/** D1 binds at most 100 parameters per statement. */
const ROWS_PER_STATEMENT = Math.floor(100 / Object.keys(getTableColumns(auditLog)).length);
/** Rows written to D1 per flush; a bigger backlog goes out over several. */
const ROWS_PER_FLUSH = 500;
/** Rows kept while D1 keeps failing; beyond this the oldest are dropped, and that is logged. */
const MAX_PENDING_ROWS = 5_000;
/** A failing flush is retried after this, doubling up to a minute. */
const RETRY_BASE_MS = 5_000;

/**
 * The audit rows of one host, written to D1 in batches. One D1 insert per relayed command
 * was most of the relay's cost on the edge; a batch costs about one.
 *
 * Each row first goes into the Durable Object's own SQLite storage, synchronously and on
 * the same machine, so no row is lost to an eviction, a deploy or a failing D1. An alarm
 * moves them to D1 at most `delayMs` later, and so does `flush` before someone reads the
 * log. Inserts ignore rows that are already there, so a batch that D1 committed but never
 * confirmed can simply be sent again.
 */
export class AuditBuffer {
  #alarmSet = false;
  #failures = 0;

  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly db: D1Database,
    private readonly delayMs = 1_000,
  ) {
    storage.sql.exec("CREATE TABLE IF NOT EXISTS audit_pending (seq INTEGER PRIMARY KEY AUTOINCREMENT, row TEXT NOT NULL)");
  }

  add(row: AuditRow): void {
    this.storage.sql.exec("INSERT INTO audit_pending (row) VALUES (?)", JSON.stringify(row));
    if (!this.#alarmSet) this.#schedule(this.delayMs);
  }

  /** Writes what is pending to D1; called by the object's alarm and before the log is read. */
  async flush(): Promise<void> {
    this.#alarmSet = false;
    this.#trim();
    try {
      for (;;) {
        const pending = this.storage.sql.exec<{ seq: number; row: string }>("SELECT seq, row FROM audit_pending ORDER BY seq LIMIT ?", ROWS_PER_FLUSH).toArray();
        const last = pending.at(-1);
        if (!last) break;
        await this.#write(pending.map((entry) => revive(JSON.parse(entry.row) as AuditRow)));
        this.storage.sql.exec("DELETE FROM audit_pending WHERE seq <= ?", last.seq);
        if (pending.length < ROWS_PER_FLUSH) break;
      }
      this.#failures = 0;
    } catch (error) {
      this.#failures += 1;
      const retryMs = Math.min(60_000, RETRY_BASE_MS * 2 ** (this.#failures - 1));
      console.error(`audit: writing to D1 failed (${error instanceof Error ? error.message : String(error)}); the rows are kept and retried in ${retryMs / 1000} s`);
      this.#schedule(retryMs);
    }
  }

  async #write(rows: AuditRow[]): Promise<void> {
    const db = database(this.db);
    const statements = [];
    for (let at = 0; at < rows.length; at += ROWS_PER_STATEMENT) {
      statements.push(db.insert(auditLog).values(rows.slice(at, at + ROWS_PER_STATEMENT)).onConflictDoNothing());
    }
    const [first, ...rest] = statements;
    if (first) await db.batch([first, ...rest]);
  }

  /** Bounds what a long D1 outage can pile up in this object's storage. */
  #trim(): void {
    const { count } = this.storage.sql.exec<{ count: number }>("SELECT count(*) AS count FROM audit_pending").one();
    if (count <= MAX_PENDING_ROWS) return;
    this.storage.sql.exec("DELETE FROM audit_pending WHERE seq IN (SELECT seq FROM audit_pending ORDER BY seq LIMIT ?)", count - MAX_PENDING_ROWS);
    console.error(`audit: D1 has been failing; dropped the ${count - MAX_PENDING_ROWS} oldest pending rows`);
  }

  #schedule(inMs: number): void {
    this.#alarmSet = true;
    // Not awaited: storage writes are ordered and confirmed before the object's next output.
    void this.storage.setAlarm(Date.now() + inMs);
  }
}

/** JSON turned the row's date into a string. */
function revive(row: AuditRow): AuditRow {
  return { ...row, createdAt: row.createdAt ? new Date(row.createdAt) : new Date() };
}
