import { database } from "../db/client";
import { auditLog } from "../db/schema";

export type AuditRow = typeof auditLog.$inferInsert;

/** D1 binds at most 100 parameters per statement; an audit row binds 8. */
const ROWS_PER_STATEMENT = 12;
/** Rows kept for a retry when D1 fails; beyond this the oldest are dropped (and logged). */
const MAX_RETAINED_ROWS = 5_000;

/**
 * The audit rows of one host, written to D1 in batches: at most `delayMs` after the first
 * row of a batch, at once when `maxRows` are waiting, and whenever someone reads the log
 * (`flush`). One insert per relayed command was most of the relay's cost on the edge; a
 * batch costs about one. The trade: rows live in the Durable Object's memory for up to
 * `delayMs`, so an eviction before the timer fires loses that last moment of the log. On
 * Cloudflare, a pending timer keeps an object from eviction from compatibility date
 * 2026-10-01 (flag `durable_object_io_tasks_prevent_eviction`); this project's date is
 * older because the local workerd that the tests run on predates the flag, so until both
 * move, a crash or an idle eviction inside that second can drop rows.
 */
export class AuditBuffer {
  #rows: AuditRow[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: D1Database,
    private readonly delayMs = 1_000,
    private readonly maxRows = 200,
  ) {}

  add(row: AuditRow): void {
    this.#rows.push(row);
    if (this.#rows.length >= this.maxRows) void this.flush();
    else this.#timer ??= setTimeout(() => void this.flush(), this.delayMs);
  }

  /** Writes everything buffered so far; resolves once it is in D1 (or has failed and been kept). */
  flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const rows = this.#rows;
    this.#rows = [];
    // Chained, so batches land in order and a flush waits for the one before it.
    this.#writing = this.#writing.then(() => (rows.length ? this.#write(rows) : undefined));
    return this.#writing;
  }

  async #write(rows: AuditRow[]): Promise<void> {
    const db = database(this.db);
    const statements = [];
    for (let at = 0; at < rows.length; at += ROWS_PER_STATEMENT) statements.push(db.insert(auditLog).values(rows.slice(at, at + ROWS_PER_STATEMENT)));
    try {
      const [first, ...rest] = statements;
      if (first) await db.batch([first, ...rest]);
    } catch (error) {
      // Keep the rows for the next flush rather than lose them to a passing D1 failure.
      const kept = [...rows, ...this.#rows];
      const dropped = Math.max(0, kept.length - MAX_RETAINED_ROWS);
      this.#rows = kept.slice(dropped);
      console.error(`audit: writing ${rows.length} rows failed (${error instanceof Error ? error.message : String(error)}); retrying later${dropped ? `, ${dropped} oldest dropped` : ""}`);
      this.#timer ??= setTimeout(() => void this.flush(), this.delayMs * 5);
    }
  }
}
