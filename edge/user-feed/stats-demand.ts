/**
 * How long stats keep coming after a feed's last viewer leaves, so a reload (the page's
 * socket closes, the next one opens a moment later) neither stops the hosts nor has to wait
 * for the walk that starts them again.
 */
export const STATS_GRACE_MS = 15_000;

/** What a feed answers a host's stats snapshot: whether more are wanted, as of which `epoch`. */
export interface StatsAnswer {
  wanted: boolean;
  /**
   * Counts the times the feed went from unwatched to watched. A host's object ignores an
   * "unwanted" answer older than the last start it was given (answer and start crossed).
   */
  epoch: number;
}

interface State {
  /** Whether the user's hosts are (assumed) sending: set by a first viewer, cleared by an "unwanted" answer. */
  sending: boolean;
  epoch: number;
  /** When the last viewer left; null while one is connected. */
  leftAt: number | null;
  /** Where the walk that starts the user's online hosts goes on (a D1 rowid); null when none is due. */
  walkFrom: number | null;
  /** Failed tries of the walk's current page in a row: each retry waits longer. */
  failures?: number;
}

/** A failed page of the walk is first retried after this long; each next retry waits twice as long, up to a minute. */
export const WALK_RETRY_MS = 1_000;
const WALK_RETRY_MAX_MS = 60_000;

const KEY = "stats-demand";

/**
 * Whether a user's hosts should send stats snapshots, kept in the feed object's storage so
 * it outlives hibernation. Hosts start sending on every connect; the answer to their first
 * snapshot stops them when nobody watches. So a host is stopped only by an "unwanted" answer,
 * which clears `sending`. `sending` is set when the walk that starts the hosts begins, before
 * any host was told, so it holds only together with that walk: a page whose calls failed stays
 * due (`walkFrom`) and is tried again until every host on it was told, and a viewer arriving
 * while a walk is due arms it again (the platform drops an alarm after a few failed runs).
 * Once the walk is done, no online host needs a start while `sending` holds, and a viewer
 * arriving then (a reload) costs no call to any host.
 */
export class StatsDemand {
  constructor(
    private readonly kv: SyncKvStorage,
    private readonly graceMs = STATS_GRACE_MS,
  ) {}

  /**
   * A viewer connected. True when a walk is due and its alarm must be armed: a new one from the
   * first host when the hosts were stopped, or one still unfinished (its alarm may be gone).
   */
  viewerJoined(): boolean {
    const state = this.#state();
    state.leftAt = null;
    if (!state.sending) Object.assign(state, { sending: true, epoch: state.epoch + 1, walkFrom: 0, failures: 0 });
    this.#save(state);
    return state.walkFrom !== null;
  }

  /** The last viewer left: snapshots stay wanted for the grace, then the next one is answered "unwanted". */
  lastViewerLeft(now = Date.now()): void {
    this.#save({ ...this.#state(), leftAt: now });
  }

  /** The answer to a host's snapshot, given whether a viewer is connected now. */
  answer(watched: boolean, now = Date.now()): StatsAnswer {
    const state = this.#state();
    const inGrace = state.sending && state.leftAt !== null && now - state.leftAt < this.graceMs;
    if (watched || inGrace) return { wanted: true, epoch: state.epoch };
    if (state.sending) this.#save({ ...state, sending: false, walkFrom: null, failures: 0 });
    return { wanted: false, epoch: state.epoch };
  }

  /** The walk due: from which rowid, for which epoch; undefined when none is. */
  walk(): { from: number; epoch: number } | undefined {
    const { walkFrom, epoch } = this.#state();
    return walkFrom === null ? undefined : { from: walkFrom, epoch };
  }

  /** One page of the walk for `epoch` is done: it goes on from `next`, or ends (null). A newer walk is left alone. */
  walked(epoch: number, next: number | null): void {
    const state = this.#state();
    if (state.epoch === epoch && state.walkFrom !== null) this.#save({ ...state, walkFrom: next, failures: 0 });
  }

  /**
   * A page of the walk for `epoch` failed (the read, or a call to some host on it): it stays
   * due, to be tried again (a start is idempotent) after the returned delay, which doubles with
   * each failure in a row. Undefined when that walk is no longer due (a newer one, or stopped).
   */
  walkFailed(epoch: number): number | undefined {
    const state = this.#state();
    if (state.epoch !== epoch || state.walkFrom === null) return undefined;
    const failures = (state.failures ?? 0) + 1;
    this.#save({ ...state, failures });
    return Math.min(WALK_RETRY_MS * 2 ** (failures - 1), WALK_RETRY_MAX_MS);
  }

  #state(): State {
    return this.kv.get<State>(KEY) ?? { sending: false, epoch: 0, leftAt: null, walkFrom: null };
  }

  #save(state: State): void {
    this.kv.put(KEY, state);
  }
}
