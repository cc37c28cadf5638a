import { type FeedEvent, type NumberedFeedEvent, numberedFeedEvent } from "../../shared/schemas/user-events";

/** How many events a user's feed keeps, and for how long: enough for a page that was away a while. */
const RING_EVENTS = 1_000;
const RING_AGE_MS = 24 * 60 * 60 * 1000;

/** What a viewer that has seen everything up to `since` is owed. */
export type Replay = { events: NumberedFeedEvent[]; latest: number } | { reset: "expired" | "unknown"; latest: number };

/**
 * A user's recent events in their feed object's SQLite, numbered by `seq` (1, 2, 3 … per
 * user, never reused: the last number is kept apart from the rows, so trimming every row
 * does not restart it). Bounded by count and by age; trimmed on every append.
 */
export class EventRing {
  constructor(
    private readonly sql: SqlStorage,
    private readonly bounds = { events: RING_EVENTS, ageMs: RING_AGE_MS },
  ) {
    sql.exec(
      "CREATE TABLE IF NOT EXISTS feed_events (seq INTEGER PRIMARY KEY, at INTEGER NOT NULL, body TEXT NOT NULL)",
    );
    sql.exec("CREATE TABLE IF NOT EXISTS feed_seq (id INTEGER PRIMARY KEY CHECK (id = 1), last INTEGER NOT NULL)");
  }

  /** The latest number given out; 0 before the first event. */
  latest(): number {
    return this.sql.exec<{ last: number }>("SELECT last FROM feed_seq WHERE id = 1").toArray()[0]?.last ?? 0;
  }

  /** Numbers `event`, stores it and trims what is past the bounds; returns it numbered. */
  append(event: FeedEvent, now = Date.now()): NumberedFeedEvent {
    const seq = this.latest() + 1;
    const numbered = { ...event, seq } satisfies NumberedFeedEvent;
    this.sql.exec(
      "INSERT INTO feed_seq (id, last) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET last = excluded.last",
      seq,
    );
    this.sql.exec("INSERT INTO feed_events (seq, at, body) VALUES (?, ?, ?)", seq, now, JSON.stringify(numbered));
    this.sql.exec(
      "DELETE FROM feed_events WHERE seq <= ? OR at < ?",
      seq - this.bounds.events,
      now - this.bounds.ageMs,
    );
    return numbered;
  }

  /**
   * The kept events after `since`, oldest first; or a reset when some of those are gone
   * (`expired`) or `since` is ahead of every number given out (`unknown`).
   */
  replay(since: number): Replay {
    const latest = this.latest();
    if (since > latest) return { reset: "unknown", latest };
    if (since === latest) return { events: [], latest };
    const oldest = this.sql.exec<{ seq: number }>("SELECT MIN(seq) AS seq FROM feed_events").toArray()[0]?.seq;
    if (oldest === undefined || oldest === null || oldest > since + 1) return { reset: "expired", latest };
    const rows = this.sql.exec<{ body: string }>("SELECT body FROM feed_events WHERE seq > ? ORDER BY seq", since);
    const events: NumberedFeedEvent[] = [];
    for (const row of rows) {
      const parsed = numberedFeedEvent.safeParse(JSON.parse(row.body));
      if (parsed.success) events.push(parsed.data);
    }
    return { events, latest };
  }
}
