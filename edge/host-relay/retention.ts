import { wakeBy } from "./alarm";

/** How often a host's object looks for what its retention lets go. */
export const SWEEP_INTERVAL_MS = 24 * 60 * 60 * 1000;
/** After a sweep that failed (D1 unreachable), the next try. */
const RETRY_MS = 60 * 60 * 1000;
const KEY = "retention-sweep";

/** Whose host this object is: the sweep's D1 queries are scoped to it. */
export interface SweepOwner {
  userId: string;
  hostId: string;
}

interface Due extends SweepOwner {
  at: number;
}

/**
 * When the host's object next sweeps its ended sessions' messages and its settled approvals
 * (agent-session-hub.ts, `sweep`): a time and the owner in the object's storage, and the
 * object's alarm set by then. The alarm is shared (audit flush, hello checks), so it can ring
 * earlier than the sweep is due: `due` then sets it again for the sweep, never later.
 */
export class RetentionSchedule {
  constructor(private readonly storage: DurableObjectStorage) {}

  /** A sweep within SWEEP_INTERVAL_MS (one already planned is kept). */
  async plan(owner: SweepOwner, now = Date.now()): Promise<void> {
    if (await this.storage.get<Due>(KEY)) return;
    await this.#at(owner, now + SWEEP_INTERVAL_MS);
  }

  /** From the alarm: the owner when a sweep is due now, else undefined (and the alarm kept for it). */
  async due(now = Date.now()): Promise<SweepOwner | undefined> {
    const due = await this.storage.get<Due>(KEY);
    if (!due) return undefined;
    if (due.at > now) {
      await wakeBy(this.storage, due.at);
      return undefined;
    }
    return { userId: due.userId, hostId: due.hostId };
  }

  /** After a sweep: the next one a day later while there is more to let go, a retry sooner after a failure. */
  async swept(owner: SweepOwner, outcome: "more" | "done" | "failed", now = Date.now()): Promise<void> {
    if (outcome === "done") await this.storage.delete(KEY);
    else await this.#at(owner, now + (outcome === "failed" ? RETRY_MS : SWEEP_INTERVAL_MS));
  }

  async #at(owner: SweepOwner, at: number): Promise<void> {
    await this.storage.put(KEY, { userId: owner.userId, hostId: owner.hostId, at } satisfies Due);
    await wakeBy(this.storage, at);
  }
}
