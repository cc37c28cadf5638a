import { IncomingMessage } from "node:http";
import { Readable } from "node:stream";
import type Docker from "dockerode";
import { messageOf } from "../../../shared/errors";
import type { Logger } from "../../log";
import { waitBounded } from "../wait-bounded";
import { dockerStatsFrame, type StatsSample, toStatsSample } from "./stats";

/**
 * Live resource use of the containers someone is looking at. Asking Docker for one stats
 * sample takes about a second per container (it waits for two readings to take a CPU
 * delta), so a list of fifty would take fifty seconds. Instead, the first time a container
 * is asked about, a Docker stats stream is opened for it; the stream delivers a sample
 * every second, and later requests answer from the latest one at once.
 *
 * Streams live only while someone watches: a container nobody asked about for `idleMs`
 * has its stream closed, and a container that stops closes its own (Docker then sends
 * zeroed frames). Nothing here keeps the process alive: the sweep timer and the stream
 * sockets are unref'd.
 */
export interface LiveStatsOptions {
  /** A stream not asked about for this long is closed. Default 60 s. */
  idleMs?: number;
  /** How often idle streams are looked for. Default 10 s. */
  sweepMs?: number;
  log?: Logger;
  now?: () => number;
}

export interface SampleOptions {
  /** Longest wait, for all containers together, for those without a sample yet. Default 2.5 s. */
  waitMs?: number;
  signal?: AbortSignal;
}

interface Watch {
  lastAsked: number;
  /** The latest sample; a first, CPU-less one until the second frame arrives. */
  sample: StatsSample | undefined;
  stream: NodeJS.ReadableStream | undefined;
  closed: boolean;
  /** Settles at the first complete sample or when the stream ends, whichever is first. */
  ready: Promise<void>;
  settle: () => void;
}

const DEFAULT_WAIT_MS = 2_500;

export class LiveStats {
  readonly #docker: Docker;
  readonly #idleMs: number;
  readonly #sweepMs: number;
  readonly #log: Logger | undefined;
  readonly #now: () => number;
  readonly #watches = new Map<string, Watch>();
  #sweeper: NodeJS.Timeout | undefined;

  constructor(docker: Docker, options: LiveStatsOptions = {}) {
    this.#docker = docker;
    this.#idleMs = options.idleMs ?? 60_000;
    this.#sweepMs = options.sweepMs ?? 10_000;
    this.#log = options.log;
    this.#now = options.now ?? Date.now;
  }

  /**
   * The latest sample of each of `ids` (full ids of running containers), marking them
   * watched. Containers without a complete sample are waited for in parallel, together at
   * most `waitMs`; one that still has none is answered with its first, CPU-less sample,
   * or left out of the map when the engine sent nothing at all.
   */
  async samples(ids: readonly string[], options: SampleOptions = {}): Promise<Map<string, StatsSample>> {
    const now = this.#now();
    const watches = ids.map((id) => [id, this.#watch(id, now)] as const);
    const waiting = watches.filter(([, watch]) => !watch.sample?.complete).map(([, watch]) => watch.ready);
    if (waiting.length > 0) await waitBounded(Promise.all(waiting), options.waitMs ?? DEFAULT_WAIT_MS, options.signal);
    const found = new Map<string, StatsSample>();
    for (const [id, watch] of watches) if (watch.sample) found.set(id, watch.sample);
    return found;
  }

  async sample(id: string, options: SampleOptions = {}): Promise<StatsSample | undefined> {
    return (await this.samples([id], options)).get(id);
  }

  /** Closes a container's stream, e.g. because it stopped or was removed. */
  forget(id: string): void {
    const watch = this.#watches.get(id);
    if (!watch) return;
    this.#watches.delete(id);
    close(watch);
    if (this.#watches.size === 0) this.#stopSweeper();
  }

  /** Ids of the containers with an open (or opening) stream. */
  watched(): string[] {
    return [...this.#watches.keys()];
  }

  /** Closes every stream; later requests open new ones. */
  stop(): void {
    for (const id of this.watched()) this.forget(id);
    this.#stopSweeper();
  }

  #watch(id: string, now: number): Watch {
    const existing = this.#watches.get(id);
    if (existing) {
      existing.lastAsked = now;
      return existing;
    }
    let settle = () => {};
    const ready = new Promise<void>((resolve) => (settle = resolve));
    const watch: Watch = { lastAsked: now, sample: undefined, stream: undefined, closed: false, ready, settle };
    this.#watches.set(id, watch);
    this.#startSweeper();
    void this.#open(id, watch);
    return watch;
  }

  async #open(id: string, watch: Watch): Promise<void> {
    let stream: NodeJS.ReadableStream;
    try {
      stream = await this.#docker.getContainer(id).stats({ stream: true });
    } catch (error) {
      this.#log?.("debug", "stats stream refused", {
        container: id.slice(0, 12),
        error: messageOf(error),
      });
      if (this.#watches.get(id) === watch) this.forget(id);
      watch.settle();
      return;
    }
    watch.stream = stream;
    if (watch.closed) return close(watch);
    if (stream instanceof IncomingMessage) stream.socket?.unref();

    let buffered = "";
    stream.on("data", (chunk: Buffer | string) => {
      buffered += chunk.toString();
      let newline: number;
      while ((newline = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        if (line.trim()) this.#onFrame(id, watch, line);
      }
    });
    const ended = () => {
      if (this.#watches.get(id) === watch) this.forget(id);
      watch.settle();
    };
    stream.on("end", ended);
    stream.on("close", ended);
    stream.on("error", ended);
  }

  #onFrame(id: string, watch: Watch, line: string): void {
    const parsed = dockerStatsFrame.safeParse(parseJson(line));
    if (!parsed.success) return;
    const sample = toStatsSample(parsed.data);
    if (!sample) {
      // Zeroed frames: the container is no longer running.
      this.forget(id);
      watch.settle();
      return;
    }
    // A first, CPU-less frame never replaces a complete sample.
    if (sample.complete || !watch.sample) watch.sample = sample;
    if (sample.complete) watch.settle();
  }

  #startSweeper(): void {
    if (this.#sweeper) return;
    this.#sweeper = setInterval(() => this.#sweep(), this.#sweepMs);
    this.#sweeper.unref();
  }

  #stopSweeper(): void {
    clearInterval(this.#sweeper);
    this.#sweeper = undefined;
  }

  #sweep(): void {
    const cutoff = this.#now() - this.#idleMs;
    for (const [id, watch] of this.#watches) if (watch.lastAsked < cutoff) this.forget(id);
  }
}

function close(watch: Watch): void {
  watch.closed = true;
  watch.settle();
  if (watch.stream instanceof Readable) watch.stream.destroy();
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
