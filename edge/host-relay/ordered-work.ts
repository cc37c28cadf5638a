import { messageOf } from "../../shared/errors";

/**
 * Work a socket hook hands off and does not wait for (D1 writes, webhook events), run one
 * after another in the order it was handed over. One chain per Durable Object (one object
 * per host) keeps a host's writes in the order things happened; `waitUntil` keeps the object
 * alive until the chain has drained. A failing step is logged and the chain goes on.
 */
export class OrderedWork {
  #tail: Promise<void> = Promise.resolve();

  constructor(private readonly ctx: DurableObjectState) {}

  add(what: string, work: () => Promise<unknown>): void {
    this.#tail = this.#tail.then(async () => {
      try {
        await work();
      } catch (error) {
        console.error(`host ${this.ctx.id.name ?? this.ctx.id.toString()}: ${what} failed (${messageOf(error)})`);
      }
    });
    this.ctx.waitUntil(this.#tail);
  }

  /** Resolves once everything handed over so far is done (tests, and reads that must see the writes). */
  drained(): Promise<void> {
    return this.#tail;
  }
}
