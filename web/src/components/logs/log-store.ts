import { type Signal, signal } from "@preact/signals";
import type { LogEntry } from "../../../../shared/schemas/services";
import { LineBuffer } from "./line-buffer";
import { type LogLine, toLogLine } from "./log-line";

/** The most lines a viewer keeps; older ones are dropped (the view says so). */
const MAX_LOG_LINES = 50_000;

/**
 * The lines of one log viewer. Lines go into the bounded buffer as they arrive; `version` is
 * bumped at most once per animation frame, so a burst of thousands of lines costs one render.
 */
export class LogStore {
  readonly buffer: LineBuffer<LogLine>;
  /** Changes when lines were added (read it to re-render with the new lines). */
  readonly version: Signal<number> = signal(0);
  #received = 0;
  #scheduled = false;
  readonly #schedule: (flush: () => void) => void;

  constructor(
    capacity = MAX_LOG_LINES,
    schedule: (flush: () => void) => void = (flush) => requestAnimationFrame(flush),
  ) {
    this.buffer = new LineBuffer(capacity);
    this.#schedule = schedule;
  }

  /** Lines received since the page opened, dropped ones included: ids run from 0 to this. */
  get received(): number {
    return this.#received;
  }

  append(entry: LogEntry): void {
    this.buffer.push(toLogLine(entry, this.#received));
    this.#received += 1;
    if (this.#scheduled) return;
    this.#scheduled = true;
    this.#schedule(this.#flush);
  }

  readonly #flush = (): void => {
    this.#scheduled = false;
    this.version.value += 1;
  };
}
