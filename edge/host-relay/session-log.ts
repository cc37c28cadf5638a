import type { AgentMessage } from "../../shared/schemas/agent-sessions";

/** How much of each agent session this host's object keeps; the oldest messages go first. */
export interface SessionLogLimits {
  maxMessages: number;
  maxBytes: number;
}

const DEFAULT_LIMITS: SessionLogLimits = { maxMessages: 10_000, maxBytes: 8 * 1024 * 1024 };

/** Oldest rows read per round while trimming: one round in the steady state, a few after a big message. */
const TRIM_BATCH = 64;

/**
 * What a viewer resuming after `since` gets; `expired` when messages it has not seen are gone:
 * trimmed by the caps, or `pruned`, all of them, after the session ended (retention).
 */
export interface Replay {
  messages: AgentMessage[];
  expired?: { oldest: number; pruned?: true };
}

const utf8 = new TextEncoder();

/**
 * The messages of the agent sessions running on this host, in the object's own SQLite, so a
 * viewer that reconnects with `?since=<seq>` misses nothing, even across an eviction or a
 * deploy. kai-agent numbers each session's messages from 1; a message whose seq is not newer
 * than the last stored one is a resend (after a reconnect, or a sync) and is ignored, so the
 * log never holds a seq twice. Everything is synchronous on purpose: a viewer's replay and
 * the next live message cannot interleave, because nothing can run between reading the log
 * and registering the viewer.
 *
 * Two tables: `agent_messages` holds the bodies (the JSON a viewer gets, byte for byte), and
 * `agent_session_logs` one row per session with its newest seq and running totals, so the
 * caps are checked without summing the session on every message, and the newest seq
 * survives trimming (a session whose messages were all dropped still rejects resends).
 */
export class SessionLog {
  #ready = false;

  constructor(
    private readonly sqlite: SqlStorage,
    private readonly limits: SessionLogLimits = DEFAULT_LIMITS,
  ) {}

  /**
   * Stores `message` when it is the session's next one. Not newer than the last is a re-send
   * (`duplicate`); further ahead is a `gap`: the ones between have not arrived (they went into
   * a connection that died), so it is not stored either and the log stays gap-free. Then drops
   * the oldest messages while the session is over either cap, never the one just stored (one
   * message alone larger than the byte cap is still kept: a replay always has the newest).
   */
  append(sessionId: string, message: AgentMessage): "stored" | "duplicate" | "gap" {
    const last = this.lastSeq(sessionId);
    if (message.seq <= last) return "duplicate";
    if (message.seq > last + 1) return "gap";
    this.#store(sessionId, message);
    return "stored";
  }

  /**
   * Records that the messages `from`..`to` will never arrive (the agent no longer holds them):
   * one `error` numbered `to` stands for them, so the next message is the session's next
   * again. Returns it, for the viewers.
   */
  markLost(sessionId: string, lost: { from: number; to: number }): AgentMessage {
    const message: AgentMessage = {
      type: "error",
      seq: lost.to,
      error: `messages ${lost.from} to ${lost.to} were lost while the host was offline (kai-agent keeps the last 2,000)`,
    };
    this.#store(sessionId, message);
    return message;
  }

  #store(sessionId: string, message: AgentMessage): void {
    const sql = this.#sql();
    const body = JSON.stringify(message);
    const bytes = utf8.encode(body).length;
    // No await until the end: the object's storage commits these writes together. REPLACE
    // heals a row left by a write that failed halfway, rather than failing on it forever.
    sql.exec(
      "INSERT OR REPLACE INTO agent_messages (session_id, seq, body, bytes) VALUES (?, ?, ?, ?)",
      sessionId,
      message.seq,
      body,
      bytes,
    );
    sql.exec(
      `INSERT INTO agent_session_logs (session_id, last_seq, count, bytes) VALUES (?, ?, 1, ?)
         ON CONFLICT (session_id) DO UPDATE
         SET last_seq = excluded.last_seq, count = count + 1, bytes = bytes + excluded.bytes`,
      sessionId,
      message.seq,
      bytes,
    );
    this.#trim(sessionId, message.seq);
  }

  /**
   * The stored messages after `since`, oldest first. `expired.oldest` is set when the viewer
   * missed messages that are no longer kept (`since < oldest - 1`): the caller says so.
   */
  replay(sessionId: string, since: number): Replay {
    const sql = this.#sql();
    const rows = sql
      .exec<{ body: string }>(
        "SELECT body FROM agent_messages WHERE session_id = ? AND seq > ? ORDER BY seq",
        sessionId,
        since,
      )
      .toArray();
    // Written only by append from a message already parsed at the socket boundary.
    const messages: AgentMessage[] = rows.map((row) => JSON.parse(row.body));
    const oldest = this.#oldest(sessionId);
    if (oldest === undefined) {
      // No message kept, yet some were numbered: the session's messages were pruned.
      const last = this.lastSeq(sessionId);
      return since < last ? { messages, expired: { oldest: last + 1, pruned: true } } : { messages };
    }
    return since < oldest - 1 ? { messages, expired: { oldest } } : { messages };
  }

  /** The newest seq stored for the session (0 when none ever was, or after `forget`). */
  lastSeq(sessionId: string): number {
    const row = this.#sql()
      .exec<{ last_seq: number }>("SELECT last_seq FROM agent_session_logs WHERE session_id = ?", sessionId)
      .toArray()[0];
    return row?.last_seq ?? 0;
  }

  /** Every session with messages here and its newest seq: what `agentSession.sync` asks the agent about. */
  sessions(): { sessionId: string; lastSeq: number }[] {
    return this.#sql()
      .exec<{ session_id: string; last_seq: number }>(
        "SELECT session_id, last_seq FROM agent_session_logs ORDER BY session_id",
      )
      .toArray()
      .map((row) => ({ sessionId: row.session_id, lastSeq: row.last_seq }));
  }

  /** Sessions that still hold messages here (not pruned), in id order. */
  held(): string[] {
    return this.#sql()
      .exec<{ session_id: string }>("SELECT session_id FROM agent_session_logs WHERE count > 0 ORDER BY session_id")
      .toArray()
      .map((row) => row.session_id);
  }

  /**
   * Drops the session's messages, keeping its numbering (retention: it ended long ago). A
   * resend is still refused, and a viewer is told the messages are gone (`replay`).
   */
  prune(sessionId: string): void {
    const sql = this.#sql();
    sql.exec("DELETE FROM agent_messages WHERE session_id = ?", sessionId);
    sql.exec("UPDATE agent_session_logs SET count = 0, bytes = 0 WHERE session_id = ?", sessionId);
  }

  /** Drops the session's messages and its numbering (the session was deleted). */
  forget(sessionId: string): void {
    const sql = this.#sql();
    sql.exec("DELETE FROM agent_messages WHERE session_id = ?", sessionId);
    sql.exec("DELETE FROM agent_session_logs WHERE session_id = ?", sessionId);
  }

  #oldest(sessionId: string): number | undefined {
    const row = this.#sql()
      .exec<{ seq: number }>("SELECT seq FROM agent_messages WHERE session_id = ? ORDER BY seq LIMIT 1", sessionId)
      .toArray()[0];
    return row?.seq;
  }

  /** Drops the oldest messages until the session fits both caps again; `newest` always stays. */
  #trim(sessionId: string, newest: number): void {
    const sql = this.#sql();
    const totals = sql
      .exec<{ count: number; bytes: number }>(
        "SELECT count, bytes FROM agent_session_logs WHERE session_id = ?",
        sessionId,
      )
      .one();
    let { count, bytes } = totals;
    let upTo = 0;
    while (count > this.limits.maxMessages || bytes > this.limits.maxBytes) {
      const oldest = sql
        .exec<{ seq: number; bytes: number }>(
          "SELECT seq, bytes FROM agent_messages WHERE session_id = ? AND seq > ? AND seq < ? ORDER BY seq LIMIT ?",
          sessionId,
          upTo,
          newest,
          TRIM_BATCH,
        )
        .toArray();
      if (oldest.length === 0) break;
      for (const row of oldest) {
        if (count <= this.limits.maxMessages && bytes <= this.limits.maxBytes) break;
        count -= 1;
        bytes -= row.bytes;
        upTo = row.seq;
      }
    }
    if (upTo === 0) return;
    sql.exec("DELETE FROM agent_messages WHERE session_id = ? AND seq <= ?", sessionId, upTo);
    sql.exec("UPDATE agent_session_logs SET count = ?, bytes = ? WHERE session_id = ?", count, bytes, sessionId);
  }

  /** The tables, created on first use by this instance of the object rather than on every wake. */
  #sql(): SqlStorage {
    const sql = this.sqlite;
    if (this.#ready) return sql;
    sql.exec(
      `CREATE TABLE IF NOT EXISTS agent_messages (
         session_id TEXT NOT NULL, seq INTEGER NOT NULL, body TEXT NOT NULL, bytes INTEGER NOT NULL,
         PRIMARY KEY (session_id, seq)
       ) WITHOUT ROWID`,
    );
    sql.exec(
      `CREATE TABLE IF NOT EXISTS agent_session_logs (
         session_id TEXT PRIMARY KEY, last_seq INTEGER NOT NULL, count INTEGER NOT NULL, bytes INTEGER NOT NULL
       )`,
    );
    this.#ready = true;
    return sql;
  }
}
