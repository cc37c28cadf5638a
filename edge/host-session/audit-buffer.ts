import { getTableColumns } from "drizzle-orm";
import { database } from "../db/client";
import { auditLog } from "../db/schema";

export type AuditRow = typeof auditLog.$inferInsert;

/** D1 binds at most 100 parameters per statement. */
const ROWS_PER_STATEMENT = Math.floor(100 / Object.keys(getTableColumns(auditLog)).length);
/** Rows gathered in memory before they are put into storage together (well under a value's size limit). */
const ROWS_PER_BATCH = 200;
/** Stored batches moved to D1 per round of a flush. */
const BATCHES_PER_ROUND = 10;
/** Stored batches kept while D1 keeps failing; beyond this the oldest are dropped, and that is logged. */
const MAX_PENDING_BATCHES = 500;
/** Pending batches live in the object's storage under this prefix. */
const KEY_PREFIX = "audit:";
/** A failing flush is retried after this, doubling up to a minute. */
const RETRY_BASE_MS = 5_000;

/**
 * The audit rows of one host, on their way to D1. One D1 insert per relayed command was
 * most of the relay's cost on the edge; here a few hundred commands share one.
 *
 * Rows gather in memory for at most `persistMs`, then go together into the Durable
 * Object's own storage (one write per batch: a write per row cost the relay a sixth of its
 * throughput). From there an alarm moves them to D1 at most `delayMs` later, and so does
 * `flush` before someone reads the log. So only the last `persistMs` of rows live in
 * memory alone, where an abrupt eviction could lose them; anything stored survives
 * evictions, deploys and a failing D1. Inserts ignore rows already there, so a batch that
 * D1 committed but never confirmed can simply be sent again.
 */
export class AuditBuffer {
  #rows: AuditRow[] = [];
  #persistTimer: ReturnType<typeof setTimeout> | undefined;
  #alarmSet = false;
  #failures = 0;

  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly db: D1Database,
    private readonly delayMs = 1_000,
    private readonly persistMs = 100,
  ) {}

  add(row: AuditRow): void {
    this.#rows.push(row);
    if (this.#rows.length >= ROWS_PER_BATCH) this.#persist();
    else this.#persistTimer ??= setTimeout(() => this.#persist(), this.persistMs);
  }

  /** Writes everything pending to D1; called by the object's alarm and before the log is read. */
  async flush(): Promise<void> {
    this.#persist();
    this.#alarmSet = false;
    try {
      for (;;) {
        const batches = await this.storage.list<AuditRow[]>({ prefix: KEY_PREFIX, limit: BATCHES_PER_ROUND });
        if (batches.size === 0) break;
        await this.#write([...batches.values()].flat());
        await this.storage.delete([...batches.keys()]);
        if (batches.size < BATCHES_PER_ROUND) break;
      }
      this.#failures = 0;
    } catch (error) {
      this.#failures += 1;
      const retryMs = Math.min(60_000, RETRY_BASE_MS * 2 ** (this.#failures - 1));
      console.error(`audit: writing to D1 failed (${error instanceof Error ? error.message : String(error)}); the rows are kept and retried in ${retryMs / 1000} s`);
      this.#schedule(retryMs);
      await this.#trim();
    }
  }

  /** Moves the rows gathered in memory into storage as one batch. */
  #persist(): void {
    clearTimeout(this.#persistTimer);
    this.#persistTimer = undefined;
    const rows = this.#rows;
    if (rows.length === 0) return;
    this.#rows = [];
    // Keys sort by time; the first row's id keeps them unique. Not awaited: the write is
    // visible to this object at once, and `allowUnconfirmed` spares holding the command's
    // answer until the disk confirms it.
    void this.storage.put(`${KEY_PREFIX}${String(Date.now()).padStart(15, "0")}:${rows[0]?.id}`, rows, { allowUnconfirmed: true });
    if (!this.#alarmSet) this.#schedule(this.delayMs);
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
  async #trim(): Promise<void> {
    const keys = [...(await this.storage.list({ prefix: KEY_PREFIX })).keys()];
    const excess = keys.length - MAX_PENDING_BATCHES;
    if (excess <= 0) return;
    // The storage API deletes at most 128 keys per call.
    for (let at = 0; at < excess; at += 128) await this.storage.delete(keys.slice(at, Math.min(excess, at + 128)));
    console.error(`audit: D1 has been failing; dropped the ${excess} oldest pending batches of rows`);
  }

  #schedule(inMs: number): void {
    this.#alarmSet = true;
    void this.storage.setAlarm(Date.now() + inMs);
  }
}
