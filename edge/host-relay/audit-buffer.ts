import { getTableColumns } from "drizzle-orm";
import { messageOf } from "../../shared/errors";
import { database } from "../db/client";
import { auditLog } from "../db/schema";

export type AuditRow = typeof auditLog.$inferInsert;

/** D1 binds at most 100 parameters per statement. */
const ROWS_PER_STATEMENT = Math.floor(100 / Object.keys(getTableColumns(auditLog)).length);
/** Rows gathered in memory before they are stored together. */
const ROWS_PER_BATCH = 200;
/** Stored batches moved to D1 per round of a flush. */
const BATCHES_PER_ROUND = 10;
/** Rows kept while D1 keeps failing (hours of a busy host); beyond this the oldest are dropped, and that is logged. */
const MAX_PENDING_ROWS = 100_000;
/** A failing flush is retried after this, doubling up to a minute. */
const RETRY_BASE_MS = 5_000;

/**
 * The audit rows of one host, on their way to D1. One D1 insert per relayed command was
 * most of the relay's cost on the edge; here a few hundred commands share one.
 *
 * Rows gather in memory for at most `persistMs`, then go together, as one row, into a
 * table in the Durable Object's own SQLite storage (a write per command cost the relay a
 * sixth of its throughput). From there the object's alarm moves them to D1 at most
 * `delayMs` later, and so does `flush` before someone reads the log. So only the last
 * `persistMs` of rows live in memory alone, where an abrupt eviction could lose them;
 * stored ones survive evictions, deploys and a failing D1. Inserts ignore rows already
 * there, so a batch that D1 committed but never confirmed can simply be sent again.
 */
export class AuditBuffer {
  #rows: AuditRow[] = [];
  #persistTimer: ReturnType<typeof setTimeout> | undefined;
  #alarmSet = false;
  #failures = 0;
  /** One flush at a time: the alarm and a reader of the log may ask at once. */
  #flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly db: D1Database,
    private readonly delayMs = 1_000,
    private readonly persistMs = 100,
  ) {
    storage.sql.exec(
      "CREATE TABLE IF NOT EXISTS audit_pending (seq INTEGER PRIMARY KEY AUTOINCREMENT, rows TEXT NOT NULL, count INTEGER NOT NULL)",
    );
  }

  add(row: AuditRow): void {
    this.#rows.push(row);
    if (this.#rows.length >= ROWS_PER_BATCH) this.#persist();
    else this.#persistTimer ??= setTimeout(() => this.#persist(), this.persistMs);
  }

  /** Whether no row waits, in memory or in storage, and no flush is scheduled: the object's alarm is not the audit's. */
  idle(): boolean {
    if (this.#rows.length > 0 || this.#alarmSet) return false;
    return this.storage.sql.exec("SELECT 1 FROM audit_pending LIMIT 1").toArray().length === 0;
  }

  /** Writes everything pending to D1; called by the object's alarm and before the log is read. */
  flush(): Promise<void> {
    this.#flushing = this.#flushing.then(() => this.#flushOnce());
    return this.#flushing;
  }

  async #flushOnce(): Promise<void> {
    this.#persist();
    this.#alarmSet = false;
    try {
      for (;;) {
        const batches = this.storage.sql
          .exec<{ seq: number; rows: string }>(
            "SELECT seq, rows FROM audit_pending ORDER BY seq LIMIT ?",
            BATCHES_PER_ROUND,
          )
          .toArray();
        const last = batches.at(-1);
        if (!last) break;
        await this.#write(batches.flatMap((batch) => (JSON.parse(batch.rows) as AuditRow[]).map(revive)));
        this.storage.sql.exec("DELETE FROM audit_pending WHERE seq <= ?", last.seq);
        if (batches.length < BATCHES_PER_ROUND) break;
      }
      this.#failures = 0;
    } catch (error) {
      this.#failures += 1;
      const retryMs = Math.min(60_000, RETRY_BASE_MS * 2 ** (this.#failures - 1));
      console.error(
        `audit: writing to D1 failed (${messageOf(error)}); the rows are kept and retried in ${retryMs / 1000} s`,
      );
      this.#trim();
      this.#schedule(retryMs);
    }
  }

  /** Moves the rows gathered in memory into storage as one batch. */
  #persist(): void {
    clearTimeout(this.#persistTimer);
    this.#persistTimer = undefined;
    const rows = this.#rows;
    if (rows.length === 0) return;
    this.#rows = [];
    this.storage.sql.exec("INSERT INTO audit_pending (rows, count) VALUES (?, ?)", JSON.stringify(rows), rows.length);
    if (!this.#alarmSet) this.#schedule(this.delayMs);
  }

  async #write(rows: AuditRow[]): Promise<void> {
    const db = database(this.db);
    const statements = [];
    for (let at = 0; at < rows.length; at += ROWS_PER_STATEMENT) {
      statements.push(
        db
          .insert(auditLog)
          .values(rows.slice(at, at + ROWS_PER_STATEMENT))
          .onConflictDoNothing(),
      );
    }
    const [first, ...rest] = statements;
    if (first) await db.batch([first, ...rest]);
  }

  /** Bounds what a long D1 outage can pile up in this object's storage. */
  #trim(): void {
    const { total } = this.storage.sql
      .exec<{ total: number | null }>("SELECT sum(count) AS total FROM audit_pending")
      .one();
    let excess = (total ?? 0) - MAX_PENDING_ROWS;
    if (excess <= 0) return;
    let dropped = 0;
    let upTo = 0;
    for (const batch of this.storage.sql
      .exec<{ seq: number; count: number }>("SELECT seq, count FROM audit_pending ORDER BY seq")
      .toArray()) {
      if (excess <= 0) break;
      excess -= batch.count;
      dropped += batch.count;
      upTo = batch.seq;
    }
    this.storage.sql.exec("DELETE FROM audit_pending WHERE seq <= ?", upTo);
    console.error(`audit: D1 has been failing; dropped the ${dropped} oldest pending rows`);
  }

  #schedule(inMs: number): void {
    this.#alarmSet = true;
    // Not awaited, and not holding the command's answer until the disk confirms it.
    this.storage.setAlarm(Date.now() + inMs, { allowUnconfirmed: true }).catch((error: unknown) => {
      this.#alarmSet = false;
      console.error(`audit: could not schedule the flush (${messageOf(error)}); the next row tries again`);
    });
  }
}

/** JSON turned the row's date into a string. */
function revive(row: AuditRow): AuditRow {
  return { ...row, createdAt: row.createdAt ? new Date(row.createdAt) : new Date() };
}
