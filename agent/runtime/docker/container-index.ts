import type Docker from "dockerode";
import { waitBounded } from "../wait-bounded";
import { type ContainerScope, kaiContainersOf, LABELS, listContainers } from "./containers";
import type { DockerEvent, EventObserver } from "./events";

/**
 * Kai's containers on this host as the engine would list them, kept current so that listing
 * them (`container.list`, the relay's most frequent read) needs no Docker call. The index never
 * patches what it holds from an event's fields: anything that may change the list (an event of
 * one of these containers, any image event, any write this agent makes to the engine) makes it
 * list them again from Docker, and those reads run one after another, each started after what
 * caused it, so the last one applied is the newest state. A list waits (at most 2 s) for the
 * reads that are due, and a read older than 15 s is made again: Docker drops events for a slow
 * reader without closing the stream. A change by another client shows once its event arrives. While the event stream is down (the engine restarted, the socket dropped) it knows
 * nothing: callers ask Docker, until the stream is back and a fresh read has filled it.
 */
export class ContainerIndex {
  #hostId: string | undefined;
  #containers: Docker.ContainerInfo[] = [];
  /** The event stream is open: every change from now on is seen. */
  #open = false;
  /** What is held was read while the stream was open, and no read has failed since. */
  #live = false;
  /** Bumped when the stream is lost: a read that began before must not be applied. */
  #epoch = 0;
  /** The chain of reads; `#due` while one is queued that has not started (it covers later triggers too). */
  #reading: Promise<void> = Promise.resolve();
  #due = false;
  /** The read a moment after the last event (#settleLater). */
  #settleTimer: NodeJS.Timeout | undefined;
  /** When the newest applied read began. */
  #readAt = 0;
  /** The newest connection's observer: a late hook of an earlier connection's stream is ignored. */
  #observers = 0;

  constructor(private readonly docker: Docker) {
    watchWrites(docker, () => this.#refresh());
  }

  /**
   * Kai's containers of `scope` in Docker's order, once every change seen so far is read; or
   * undefined when the index cannot answer exactly (no stream, another host, a failed read, a
   * read that takes too long): the caller then asks Docker itself.
   */
  async list(scope: ContainerScope): Promise<Docker.ContainerInfo[] | undefined> {
    if (!this.#open || scope.kind !== "kai" || scope.hostId !== this.#hostId) return undefined;
    // Docker drops events for a slow reader without closing the stream, and a failed read
    // leaves the index unknowing: an old or failed read is followed by a fresh one.
    if (!this.#live || Date.now() - this.#readAt > MAX_AGE_MS) this.#refresh();
    if (!this.#live) return undefined;
    // Event lines already read from the socket in this turn of the loop are applied first;
    // a write of this agent queued its read before its caller went on.
    await new Promise((resolve) => setImmediate(resolve));
    const read = await waitBounded(this.#reading, MAX_WAIT_MS);
    return read && this.#live ? [...this.#containers] : undefined;
  }

  /** The hooks of the engine's event stream (watchContainerEvents) for one connection as `hostId`. */
  observer(hostId: string): EventObserver {
    const token = ++this.#observers;
    const current = () => token === this.#observers;
    return {
      opened: () => {
        if (!current()) return;
        this.#hostId = hostId;
        this.#open = true;
        this.#refresh();
      },
      lost: () => {
        if (!current()) return;
        this.#open = false;
        this.#live = false;
        this.#epoch += 1;
      },
      event: (event) => {
        if (!current()) return;
        if (event.Type === "image" || (event.Type === "container" && this.#mayChangeList(event))) {
          this.#refresh();
          this.#settleLater();
        }
      },
    };
  }

  /**
   * Docker may announce a change before the list it answers shows it (20.10 logs `pause`
   * before it saves the state its list reads): one more read a moment after the last event
   * catches what the read that event caused was too early for.
   */
  #settleLater(): void {
    clearTimeout(this.#settleTimer);
    this.#settleTimer = setTimeout(() => this.#refresh(), SETTLE_MS);
    this.#settleTimer.unref();
  }

  #mayChangeList(event: DockerEvent): boolean {
    const labels = event.Actor.Attributes ?? {};
    if (labels[LABELS.managed] !== "true" || labels[LABELS.host] !== this.#hostId) return false;
    // What the list shows (name, state, image) does not change with these.
    return !QUIET_ACTIONS.some((action) => event.Action.startsWith(action));
  }

  #refresh(): void {
    if (this.#due || !this.#open) return;
    this.#due = true;
    this.#reading = this.#reading.then(async () => {
      this.#due = false;
      const epoch = this.#epoch;
      const hostId = this.#hostId;
      if (!hostId) return;
      const startedAt = Date.now();
      try {
        const infos = await listContainers(this.docker, kaiContainersOf(hostId));
        if (epoch !== this.#epoch || !this.#open) return;
        this.#containers = infos;
        this.#readAt = startedAt;
        this.#live = true;
      } catch {
        // Not knowing is safe: lists ask Docker until a read succeeds.
        this.#live = false;
      }
    });
  }
}

/** How long after the last event the index reads once more (#settleLater). */
const SETTLE_MS = 500;
/** The longest a list trusts what it holds without a fresh read (events Docker dropped). */
const MAX_AGE_MS = 15_000;
/** The longest a list waits for the reads that are due before asking Docker itself (a hung call). */
const MAX_WAIT_MS = 2_000;

/** Container actions that leave its line of the list as it was (exec, health probes, attach, resize, …). */
const QUIET_ACTIONS = ["exec_", "health_status", "attach", "detach", "resize", "top", "copy", "archive-path", "export"];

/** Engine calls that only read, or act inside a container without changing the list. */
const READ_ONLY = /^(GET|HEAD)$/;
const INSIDE = /\/(exec|attach|wait|resize|archive)(\/|\?|$)|^\/exec\//;

/**
 * Calls `onWrite` when a call of this agent that may change the containers or images answers,
 * before its caller sees the answer: a list that follows a change made through Kai waits for
 * the read it caused, so it shows the change even if the engine's event comes later.
 */
function watchWrites(docker: Docker, onWrite: () => void): void {
  const modem = docker.modem as unknown as DialingModem;
  const dial = modem.dial.bind(modem);
  modem.dial = (options, callback) => {
    const writes = !READ_ONLY.test(String(options.method ?? "GET").toUpperCase()) && !INSIDE.test(options.path ?? "");
    if (!writes) return dial(options, callback);
    return dial(options, (error, data) => {
      onWrite();
      callback(error, data);
    });
  };
}

/** The one method of docker-modem every dockerode call goes through. */
interface DialingModem {
  dial(
    options: { method?: string; path?: string; [key: string]: unknown },
    callback: (error: unknown, data: unknown) => void,
  ): unknown;
}
