/**
 * Everything a benchmark starts (workerd, agents, containers, temp dirs) is deferred into a
 * scope and undone in reverse order when the benchmark ends, fails, or the run is
 * interrupted: `npm run bench` must never leave an agent, a workerd or a container behind.
 */

const open = new Set<Scope>();

export class Scope {
  readonly #undo: { what: string; fn: () => Promise<unknown> | unknown }[] = [];

  constructor() {
    open.add(this);
  }

  /** Registers `fn` to run when the scope closes (last registered runs first). */
  defer(what: string, fn: () => Promise<unknown> | unknown): void {
    this.#undo.push({ what, fn });
  }

  /** Runs every deferred step, even when some fail; failures are reported, not thrown. */
  async close(): Promise<void> {
    open.delete(this);
    while (this.#undo.length > 0) {
      const step = this.#undo.pop();
      if (!step) break;
      try {
        await step.fn();
      } catch (error) {
        process.stderr.write(
          `bench: cleanup of ${step.what} failed: ${error instanceof Error ? error.message : String(error)}\n`,
        );
      }
    }
  }
}

/** Closes every scope still open: the runner calls this on SIGINT/SIGTERM before exiting. */
export async function closeAllScopes(): Promise<void> {
  await Promise.all([...open].map((scope) => scope.close()));
}
