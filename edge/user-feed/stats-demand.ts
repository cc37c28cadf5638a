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
  /** Failed reads of the walk's current page in a row: each retry waits longer. */
  failures?: number;
  /** When the walk's page is due again after a failed read (when to wake for it; absent: at once). */
  walkAt?: number;
  /** Hosts of the walk whose call failed, by id: failed tries so far, and when the next is due. */
  retries?: Record<string, HostRetry>;
}

interface HostRetry {
  tries: number;
  at: number;
}

/** A failed page of the walk (or host's call) is first retried after this long; each next retry waits twice as long, up to a minute. */
export const WALK_RETRY_MS = 1_000;
const WALK_RETRY_MAX_MS = 60_000;
/**
 * Calls to one host in all before the walk gives up on it (after 1 + 2 + 4 + 8 s of backoff):
 * its object keeps failing, and the host sends stats again on its next connect anyway.
 */
export const HOST_TRIES = 5;
/**
 * The walk goes on to its next page only while fewer hosts than this wait for a retry: the
 * retries are one value in storage, and when every call fails (the host objects cannot be
 * reached at all) later pages would fail the same way.
 */
const MAX_RETRYING = 100;

const backoff = (failures: number) => Math.min(WALK_RETRY_MS * 2 ** (failures - 1), WALK_RETRY_MAX_MS);

const KEY = "stats-demand";

/**
 * Whether a user's hosts should send stats snapshots, kept in the feed object's storage so
 * it outlives hibernation. Hosts start sending on every connect; the answer to their first
 * snapshot stops them when nobody watches. So a host is stopped only by an "unwanted" answer,
 * which clears `sending`. `sending` is set when the walk that starts the hosts begins, before
 * any host was told, so it holds only together with that walk: a page whose read failed stays
 * due (`walkFrom`) and is read again, a host whose call failed is called again on its own
 * (`retries`, with backoff) while the walk goes on, and a viewer arriving while either is due
 * arms the alarm again (the platform drops an alarm after a few failed runs). A host whose
 * object keeps failing is given up after HOST_TRIES, so one broken object cannot hold the walk.
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
    if (!state.sending) {
      Object.assign(state, { sending: true, epoch: state.epoch + 1, walkFrom: 0, failures: 0, walkAt: undefined });
      state.retries = {};
    }
    this.#save(state);
    return state.walkFrom !== null || Object.keys(state.retries ?? {}).length > 0;
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
    if (state.sending) this.#save({ ...state, sending: false, walkFrom: null, failures: 0, retries: {} });
    return { wanted: false, epoch: state.epoch };
  }

  /** The walk due: from which rowid, for which epoch; undefined when none is. */
  walk(): { from: number; epoch: number } | undefined {
    const { walkFrom, epoch } = this.#state();
    return walkFrom === null ? undefined : { from: walkFrom, epoch };
  }

  /** The walk's page to read by `now`: the walk due and past the backoff of a failed read, unless too many of its hosts wait for a retry. */
  pageDue(now = Date.now()): { from: number; epoch: number } | undefined {
    return (this.#state().walkAt ?? 0) <= now ? this.#pageWaiting() : undefined;
  }

  /** The walk's page still to read, now or after a failed read's backoff; none while too many hosts wait for a retry. */
  #pageWaiting(): { from: number; epoch: number } | undefined {
    return this.#retrying(this.#state()).length < MAX_RETRYING ? this.walk() : undefined;
  }

  /** One page of the walk for `epoch` is done: it goes on from `next`, or ends (null). A newer walk is left alone. */
  walked(epoch: number, next: number | null): void {
    const state = this.#state();
    if (state.epoch === epoch && state.walkFrom !== null)
      this.#save({ ...state, walkFrom: next, failures: 0, walkAt: undefined });
  }

  /**
   * Reading a page of the walk for `epoch` failed: it stays due, to be read again after the
   * returned delay, which doubles with each failure in a row. Undefined when that walk is no
   * longer due (a newer one, or stopped).
   */
  walkFailed(epoch: number, now = Date.now()): number | undefined {
    const state = this.#state();
    if (state.epoch !== epoch || state.walkFrom === null) return undefined;
    const failures = (state.failures ?? 0) + 1;
    const retryMs = backoff(failures);
    this.#save({ ...state, failures, walkAt: now + retryMs });
    return retryMs;
  }

  /**
   * Calls of the walk for `epoch` settled: `told` hosts are done, each of `failed` is called
   * again on its own after a backoff that doubles with its failures (a start is idempotent),
   * up to HOST_TRIES calls in all. Returns the hosts given up on now. Nothing changes when that
   * walk is no longer the one due (a newer one, or stopped).
   */
  hostsCalled(epoch: number, told: string[], failed: string[], now = Date.now()): string[] {
    const state = this.#state();
    if (state.epoch !== epoch || !state.sending) return [];
    const retries = { ...state.retries };
    for (const hostId of told) delete retries[hostId];
    const givenUp: string[] = [];
    for (const hostId of failed) {
      const tries = (retries[hostId]?.tries ?? 0) + 1;
      if (tries >= HOST_TRIES) {
        delete retries[hostId];
        givenUp.push(hostId);
      } else retries[hostId] = { tries, at: now + backoff(tries) };
    }
    this.#save({ ...state, retries });
    return givenUp;
  }

  /** Hosts whose retry is due by `now`, for which epoch; undefined when none is. */
  retriesDue(now = Date.now()): { hostIds: string[]; epoch: number } | undefined {
    const state = this.#state();
    const hostIds = this.#retrying(state).filter((hostId) => (state.retries?.[hostId]?.at ?? 0) <= now);
    return hostIds.length > 0 ? { hostIds, epoch: state.epoch } : undefined;
  }

  /** When the alarm should next run: the walk's page or a host's retry, whichever is due first; undefined when neither is. */
  nextAlarm(now = Date.now()): number | undefined {
    const state = this.#state();
    const times = this.#retrying(state).map((hostId) => state.retries?.[hostId]?.at ?? now);
    if (this.#pageWaiting()) times.push(state.walkAt ?? now);
    return times.length > 0 ? Math.max(now, Math.min(...times)) : undefined;
  }

  #retrying(state: State): string[] {
    return state.sending ? Object.keys(state.retries ?? {}) : [];
  }

  #state(): State {
    return this.kv.get<State>(KEY) ?? { sending: false, epoch: 0, leftAt: null, walkFrom: null };
  }

  #save(state: State): void {
    this.kv.put(KEY, state);
  }
}
