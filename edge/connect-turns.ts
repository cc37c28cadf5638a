/** What a caller of `ConnectTurns.take` is told: go (after `waitMs`, holding `lease`), or come back later. */
export type TurnDecision =
  | { admitted: true; waitMs: number; lease: string }
  | { admitted: false; retryAfterMs: number };

export interface TurnOptions {
  /** The ceiling: turns start at most one per interval after a burst of `burst`. */
  intervalMs: number;
  burst: number;
  /** The longest a caller is held for its turn; one due later is refused and told when to come back. */
  maxWaitMs: number;
  /** Who dials: a holder that dials again shares its turn rather than taking another. */
  holder: string;
  /**
   * One group (a user) holds at most `maxPerGroup` turns: queued, not yet started, or (with
   * `inFlight`) started and not yet released; past that its callers are refused.
   */
  group: string;
  maxPerGroup: number;
  /**
   * Turns whose lease is still held at once. A turn's lease is held from its start until it is
   * released (the work it admits completed or failed) or `leaseMs` after its start, whichever
   * comes first; the next turn waits for a lease to come free. Without it turns only keep the
   * pace (an open loop).
   */
  inFlight?: number;
  leaseMs?: number;
}

/** The reads of tokens the pacer never saw checked (`ConnectTurns.read`): at most `max` under way, each for at most `ms`. */
export interface ReadOptions extends Pick<TurnOptions, "intervalMs" | "burst" | "maxWaitMs"> {
  max: number;
  ms: number;
}

/** Callers dialling again that may wait on their holder's queued turn: more are refused (a token dialling in a loop). */
const MAX_SHARED_WAITS = 4;
/** The furthest a refused caller is sent away. */
const MAX_RETRY_AFTER_MS = 60_000;
/** How far back released leases are counted to tell how fast turns really start. */
const COMPLETIONS_WINDOW_MS = 5_000;
/** Fewer releases than this in the window say nothing yet (an edge just restarted): the pace it is. */
const MIN_COMPLETIONS = 10;

interface Lease {
  holder: string;
  group: string;
  /** When its turn starts (the caller waits until then), and when it expires unreleased. */
  at: number;
  expiresAt: number;
  /** Released by the work it admits; otherwise (an open-loop turn) it only counts until its turn starts. */
  inFlight: boolean;
  /** Renewed once already (`renew`): a second renewal is ignored, so no lease outlives its bound. */
  renewed?: boolean;
}

interface Holdings {
  held: Map<string, number>;
  groups: Set<string>;
}

interface Waiter {
  options: TurnOptions;
  queuedAt: number;
  answer: (decision: TurnDecision) => void;
  /** Callers with the same holder that dialled again while it waited: they get its answer. */
  also: ((decision: TurnDecision) => void)[];
}

/**
 * Turns to connect, admitted by completions: at most `inFlight` leases are held at once, so
 * the edge takes no more concurrent connects than it finishes, and turns start no faster than
 * the pace (the generic cell rate algorithm's "theoretical arrival time" in `#nextSlot`). A
 * caller waits in a queue for a lease while its place in the queue is within `maxWaitMs` at
 * the pace; one further off, or still queued after `maxWaitMs`, is refused and told when to
 * come back, those times spread one turn apart (at the slower of the pace and what recent
 * leases took) so the refused do not return as one wave. With `inFlight`, the leases are
 * shared fairly between groups (`#pump`). Memory only: after an eviction
 * every lease is forgotten and the object starts idle again.
 */
export class ConnectTurns {
  #nextSlot = 0;
  #nextRetry = 0;
  /**
   * Leases released in the last COMPLETIONS_WINDOW_MS, oldest release first (trimmed on each
   * release), with when their turns started.
   */
  readonly #completions: { releasedAt: number; startedAt: number }[] = [];
  readonly #leases = new Map<string, Lease>();
  readonly #queue: Waiter[] = [];
  /** When each refused holder was told to come back: asking again does not push others back. */
  readonly #refused = new Map<string, number>();
  /** When each token read under way (`read`) stops counting if no check follows it (a forged token's never does). */
  readonly #reads: number[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly now: () => number = Date.now,
    private readonly random: () => number = Math.random,
  ) {}

  /**
   * A dial whose token must be read before it can have a turn (the pacer never saw it issued
   * or checked: it missed the issue, lost its storage, or the token is forged). The reads are
   * bounded too: at most `max` under way at once, so a herd of unknown tokens is not a herd of
   * database reads with every admitted connect's hello waiting behind them. Undefined: go and
   * read it (then `readDone`). Otherwise it is refused and told to come
   * back at a random moment within half the longest wait, after the queue's place would be
   * within it. Nothing of the token is kept, and the retry times of checked callers are not
   * moved: it has not been read, so it may be forged. A read that no check follows stops
   * counting after `ms`.
   */
  read(options: ReadOptions): TurnDecision | undefined {
    const now = this.now();
    while ((this.#reads[0] ?? Number.POSITIVE_INFINITY) <= now) this.#reads.shift();
    if (this.#reads.length < options.max) {
      // Kept in order of when each stops counting, the first to go first.
      this.#reads.push(now + options.ms);
      this.#reads.sort((a, b) => a - b);
      return undefined;
    }
    const { intervalMs, maxWaitMs } = options;
    const waitMs = this.#paced(options, this.#queue.length + 1, now);
    const retryAfterMs = Math.max(intervalMs, waitMs - maxWaitMs / 2) + this.random() * (maxWaitMs / 2);
    return { admitted: false, retryAfterMs: Math.min(MAX_RETRY_AFTER_MS, Math.round(retryAfterMs)) };
  }

  /** A token read that `read` let go was checked: its place among the reads goes to the next. */
  readDone(): void {
    this.#reads.shift();
  }

  take(options: TurnOptions): Promise<TurnDecision> {
    const now = this.now();
    // Expires lapsed leases and hands their places to the queue first: a place freed by an
    // expiry whose timer has not fired yet goes to the head of the queue, not to no one.
    this.#pump();
    for (const [key, at] of this.#refused) if (at <= now) this.#refused.delete(key);
    const { holder, group, maxWaitMs, maxPerGroup } = options;
    for (const [id, lease] of this.#leases) {
      if (lease.holder === holder)
        return Promise.resolve({ admitted: true, waitMs: Math.max(0, lease.at - now), lease: id });
    }
    const queued = this.#queue.find((waiter) => waiter.options.holder === holder);
    if (queued && queued.also.length < MAX_SHARED_WAITS) return new Promise((resolve) => queued.also.push(resolve));
    if (queued) return Promise.resolve(this.#refuse(options, this.#paced(options, this.#placeOf(options), now), now));
    const told = this.#refused.get(holder);
    if (told) return Promise.resolve({ admitted: false, retryAfterMs: told - now });

    const groupTurns =
      this.#queue.filter((waiter) => waiter.options.group === group).length +
      [...this.#leases.values()].filter((lease) => lease.group === group && (lease.inFlight || lease.at > now)).length;
    // After the pump, a caller queued means no lease is free: only a caller alone starts now.
    const startsNow = this.#queue.length === 0 && this.#hasRoom(options);
    // The queue is bounded by the pace (what it would start within maxWaitMs), not by how slow
    // leases are now: a held dial costs the edge nothing, one sent away dials (and is checked) again.
    const waitMs = this.#paced(options, startsNow ? 1 : this.#placeOf(options), now);
    if (waitMs > maxWaitMs || groupTurns >= maxPerGroup) {
      return Promise.resolve(this.#refuse(options, waitMs, now));
    }
    if (startsNow) return Promise.resolve(this.#start(options, now));
    return new Promise((answer) => {
      this.#queue.push({ options, queuedAt: now, answer, also: [] });
      this.#arm();
    });
  }

  /** The work a lease admitted completed or failed: its place goes to the next in the queue. */
  release(id: string): void {
    const lease = this.#leases.get(id);
    if (!lease) return;
    this.#leases.delete(id);
    const now = this.now();
    this.#completions.push({ releasedAt: now, startedAt: lease.at });
    this.#trimCompletions(now);
    this.#pump();
  }

  /**
   * The work a lease admitted is still under way and may outlast the lease (a hello whose D1
   * write is slow, arriving near its deadline): the lease now lasts at least `ms` from now. Once
   * per lease, so work that never ends (a stuck write) holds it at most `leaseMs` plus `ms`
   * past the later of its start and the renewal, and then its place goes to the queue anyway.
   */
  renew(id: string, ms: number): void {
    const lease = this.#leases.get(id);
    const now = this.now();
    // One past its end is lapsed even while no timer has expired it yet: its place is given away.
    if (!lease?.inFlight || lease.renewed || lease.expiresAt <= now) return;
    lease.expiresAt = Math.max(lease.expiresAt, now + ms);
    lease.renewed = true;
    this.#arm();
  }

  #hasRoom(options: TurnOptions): boolean {
    return options.inFlight === undefined || this.#held() < options.inFlight;
  }

  /**
   * Who holds the leases in flight: the count per group, and every group holding or waiting for
   * one. Taken once per pump or take (not per waiter, which made a pump quadratic in the queue)
   * and kept current as the pump starts turns.
   */
  #holdings(): Holdings {
    const held = new Map<string, number>();
    for (const lease of this.#leases.values()) {
      if (lease.inFlight) held.set(lease.group, (held.get(lease.group) ?? 0) + 1);
    }
    const groups = new Set(held.keys());
    for (const waiter of this.#queue) groups.add(waiter.options.group);
    return { held, groups };
  }

  /**
   * Whether `group` holds less than its fair share of the leases in flight: an equal part for
   * each group holding or waiting for one. Without `inFlight` there is nothing to share.
   */
  #underShare({ group, inFlight }: TurnOptions, { held, groups }: Holdings): boolean {
    if (inFlight === undefined) return true;
    const sharing = groups.size + (groups.has(group) ? 0 : 1);
    return (held.get(group) ?? 0) < Math.max(1, Math.floor(inFlight / sharing));
  }

  /** Where a caller joining the queue now would start: behind everyone, or, under its group's share, behind those under theirs. */
  #placeOf(options: TurnOptions): number {
    const holdings = this.#holdings();
    if (!this.#underShare(options, holdings)) return this.#queue.length + 1;
    return this.#queue.filter((waiter) => this.#underShare(waiter.options, holdings)).length + 1;
  }

  #held(): number {
    let held = 0;
    for (const lease of this.#leases.values()) if (lease.inFlight) held += 1;
    return held;
  }

  #trimCompletions(now: number): void {
    while ((this.#completions[0]?.releasedAt ?? now) < now - COMPLETIONS_WINDOW_MS) this.#completions.shift();
  }

  /** Takes the pace's next slot and a lease on it; the caller waits until the slot. */
  #start(options: TurnOptions, now: number): TurnDecision {
    const { intervalMs, burst, holder, group, leaseMs } = options;
    const slot = Math.max(this.#nextSlot, now);
    const waitMs = Math.max(0, slot - (burst - 1) * intervalMs - now);
    this.#nextSlot = slot + intervalMs;
    const id = crypto.randomUUID();
    const at = now + waitMs;
    const inFlight = options.inFlight !== undefined;
    const expiresAt = inFlight ? at + (leaseMs ?? 0) : at;
    this.#leases.set(id, { holder, group, at, expiresAt, inFlight });
    return { admitted: true, waitMs, lease: id };
  }

  /**
   * How far apart turns can start: the pace, or what `inFlight` leases allow when each is held
   * as long as those released lately were (releases in the last COMPLETIONS_WINDOW_MS; Little's
   * law: leases held / time each is held), whichever is slower. Too few releases (an edge just
   * restarted) say nothing yet, and the pace is all there is to go by. Counting the releases over
   * the time since the earliest of their turns began instead made a fleet's start, whose first
   * burst of leases is released together a second or two after it began, look five to ten times
   * slower than the edge then ran: the first refused were spread 100–200 ms apart, came back for
   * 15–25 s, and the edge sat idle waiting for them (a scratch run of 1,000 agents: 33 s
   * against a pace of 19).
   */
  #perTurn({ intervalMs, inFlight }: TurnOptions, now: number): number {
    this.#trimCompletions(now);
    const count = this.#completions.length;
    if (inFlight === undefined || count < MIN_COMPLETIONS) return intervalMs;
    let heldMs = 0;
    for (const { releasedAt, startedAt } of this.#completions) heldMs += releasedAt - startedAt;
    return Math.max(intervalMs, heldMs / count / inFlight);
  }

  /** When the `position`-th turn from now would start at the pace alone. */
  #paced({ intervalMs, burst }: Pick<TurnOptions, "intervalMs" | "burst">, position: number, now: number): number {
    return Math.max(0, Math.max(this.#nextSlot, now) - (burst - 1) * intervalMs - now + (position - 1) * intervalMs);
  }

  #refuse(options: TurnOptions, waitMs: number, now: number): TurnDecision {
    const retryAt = this.#comeBackAt(options, waitMs, now, this.#nextRetry);
    // The refused come back one turn apart, at the rate turns really start.
    this.#nextRetry = retryAt + this.#perTurn(options, now);
    return this.#sendAway(options.holder, retryAt, now);
  }

  /**
   * When a caller whose turn is `waitMs` off should come back: once the queue's end would be
   * within half the longest wait, not before `notBefore`, and never past MAX_RETRY_AFTER_MS.
   */
  #comeBackAt({ intervalMs, maxWaitMs }: TurnOptions, waitMs: number, now: number, notBefore: number): number {
    return Math.min(now + MAX_RETRY_AFTER_MS, Math.max(notBefore, now + Math.max(intervalMs, waitMs - maxWaitMs / 2)));
  }

  /** Refuses `holder`, told to come back at `retryAt`: asking again before then gets the same time. */
  #sendAway(holder: string, retryAt: number, now: number): TurnDecision {
    this.#refused.set(holder, retryAt);
    return { admitted: false, retryAfterMs: retryAt - now };
  }

  /** Leases past their bound end (the Worker that held one died mid-connect, say). */
  #expire(now: number): void {
    for (const [id, lease] of this.#leases) {
      if (lease.expiresAt <= now) this.#leases.delete(id);
    }
  }

  /**
   * Refuses those queued past their longest wait, then starts queued turns while there is room:
   * first, in order, callers whose group holds less than its fair share of the leases in flight
   * (`#underShare`), then, in order, the rest. So a group alone gets every free lease, and groups
   * whose dials never complete cannot hold the leases others wait for: each lease they free goes
   * to a group under its share first.
   */
  #pump(): void {
    const now = this.now();
    this.#expire(now);
    let comeBack = now;
    for (let index = 0; index < this.#queue.length; ) {
      const waiter = this.#queue[index] as Waiter;
      if (now - waiter.queuedAt < waiter.options.maxWaitMs) {
        index += 1;
        continue;
      }
      this.#queue.splice(index, 1);
      // It waited its longest at the front of the line (turns started slower than the pace it
      // was queued by): it comes back ahead of those refused on arrival (#nextRetry), in the
      // order it queued, as soon as the queue's end is within half the longest wait. Sent behind
      // them, a fleet's first queue timed out together and left the edge with no one to admit.
      const place = this.#paced(waiter.options, this.#queue.length + 1, now);
      comeBack = this.#comeBackAt(waiter.options, place, now, comeBack + waiter.options.intervalMs);
      this.#answer(waiter, this.#sendAway(waiter.options.holder, comeBack, now));
    }
    const holdings = this.#holdings();
    for (const fairFirst of [true, false]) {
      for (let index = 0; index < this.#queue.length; ) {
        const waiter = this.#queue[index] as Waiter;
        if (!this.#hasRoom(waiter.options)) break;
        if (fairFirst && !this.#underShare(waiter.options, holdings)) {
          index += 1;
          continue;
        }
        this.#queue.splice(index, 1);
        const { group } = waiter.options;
        holdings.held.set(group, (holdings.held.get(group) ?? 0) + 1);
        this.#answer(waiter, this.#start(waiter.options, now));
      }
    }
    this.#arm();
  }

  #answer(waiter: Waiter, decision: TurnDecision): void {
    waiter.answer(decision);
    for (const answer of waiter.also) answer(decision);
  }

  /** Wakes for the next lease to expire or queued caller to time out, while anyone is queued. */
  #arm(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    const head = this.#queue[0];
    if (!head) return;
    let due = head.queuedAt + head.options.maxWaitMs;
    for (const lease of this.#leases.values()) due = Math.min(due, lease.expiresAt);
    this.#timer = setTimeout(() => this.#pump(), Math.max(0, due - this.now()));
  }
}
