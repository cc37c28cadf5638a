import type { LogEntry } from "../../../../shared/schemas/services";

/**
 * Where a log follow stands, so a reconnect resumes without gaps or duplicates. The stream's
 * `seq` starts again at 0 on every socket, so it only de-duplicates within one socket; across
 * sockets the cursor is the last line's timestamp (Docker's, to the nanosecond): the next
 * socket asks for every line `since` that time (inclusive) and skips as many lines at exactly
 * that time as were already received.
 */
export class FollowCursor {
  #lastSeq = -1;
  #lastTimestamp: string | undefined;
  /** Lines received with `#lastTimestamp` (several lines can share one time). */
  #atLastTimestamp = 0;
  /** Lines still to skip at `#lastTimestamp` on this socket (the ones a resume sends again). */
  #toSkip = 0;

  /** `initialLines`: how many earlier lines the first socket asks for. */
  constructor(readonly initialLines: number) {}

  /** The query for the next socket: the first asks for recent lines, a resume for everything since the cursor. */
  query(): string {
    if (this.#lastTimestamp === undefined) return `lines=${this.initialLines}`;
    return `since=${encodeURIComponent(this.#lastTimestamp)}`;
  }

  /** A new socket opened: its `seq` counts from 0 again, and the repeated lines are still to come. */
  opened(): void {
    this.#lastSeq = -1;
    this.#toSkip = this.#atLastTimestamp;
  }

  /** Whether the chunk `seq` with `entry` is new (true) or a repeat to drop. */
  accept(seq: number, entry: LogEntry): boolean {
    if (seq <= this.#lastSeq) return false;
    this.#lastSeq = seq;
    if (this.#toSkip > 0 && entry.timestamp === this.#lastTimestamp) {
      this.#toSkip -= 1;
      return false;
    }
    this.#toSkip = 0;
    if (entry.timestamp === this.#lastTimestamp) {
      this.#atLastTimestamp += 1;
    } else {
      this.#lastTimestamp = entry.timestamp;
      this.#atLastTimestamp = 1;
    }
    return true;
  }
}
