import { AgentConnection } from "../../agent/connection";
import { reportHostStats, type StatsReporter } from "../../agent/connection/stats-reporter";
import { handlers } from "../../agent/handlers";
import type { Logger } from "../../agent/log";
import { AgentRpc } from "../../agent/rpc";
import type { ResultOf } from "../../shared/command-replies";
import { HOST_STATS_TOPIC } from "../../shared/protocol";

/**
 * Idle hosts that only report stats, in one process: each is kai-agent's own connection loop
 * (agent/connection.ts, whose hello lists host-stats-on-demand) and its own stats reporter
 * (agent/connection/stats-reporter.ts), switched on and off by the edge's `stats` frames as in
 * kai-agent. The snapshot itself is a constant: what is measured is what the edge is sent, and
 * asking Docker 100 times per interval would only load the machine. Every snapshot sent is one
 * call into the host's object and one from it to the user's feed.
 */
export class StatsAgents {
  /** Snapshots sent, with performance.now() of each. */
  readonly sent: number[] = [];
  readonly #connections: AgentConnection[] = [];
  readonly #loops: Promise<string>[] = [];
  readonly #welcomed = new Set<number>();
  readonly #wanted = new Map<number, boolean>();

  constructor(
    server: string,
    hosts: { token: string }[],
    private readonly intervalMs: number,
  ) {
    hosts.forEach((host, index) => {
      const log: Logger = () => undefined;
      const connection = new AgentConnection({
        server,
        token: host.token,
        log,
        // No request is relayed to these hosts: the handlers are never run, so they get no context.
        rpcFor: (_hostId, send, batchChunks) =>
          new AgentRpc({ handlers, context: {} as never, send, batchChunks, log }),
        dockerState: async () => ({ ok: true, version: "bench" }),
        whileConnected: (_hostId, publish, signal, asks) => {
          this.#welcomed.add(index);
          this.#wanted.set(index, true);
          signal.addEventListener("abort", () => this.#welcomed.delete(index));
          const counted = (topic: string, data: unknown) => {
            if (topic === HOST_STATS_TOPIC) this.sent.push(performance.now());
            publish(topic, data);
          };
          const reporter: StatsReporter = reportHostStats({
            stats: async () => SNAPSHOT,
            publish: counted,
            canPublish: () => !signal.aborted,
            intervalMs: this.intervalMs,
            log,
            signal,
          });
          asks.hostStats = (send) => {
            this.#wanted.set(index, send);
            reporter.send(send);
          };
        },
      });
      this.#connections.push(connection);
      this.#loops.push(connection.run());
    });
  }

  /** How many are welcomed now. */
  welcomed(): number {
    return this.#welcomed.size;
  }

  /** How many the edge last told to send (or that have not been told otherwise since connecting). */
  sending(): number {
    return [...this.#wanted.values()].filter(Boolean).length;
  }

  /** Snapshots sent in [from, to) (performance.now()). */
  sentBetween(from: number, to: number): number {
    return this.sent.filter((at) => at >= from && at < to).length;
  }

  async stop(): Promise<void> {
    for (const connection of this.#connections) connection.stop();
    await Promise.all(this.#loops);
  }
}

const SNAPSHOT: ResultOf<"system.stats"> = {
  services: { total: 0, running: 0, stopped: 0 },
  resources: { avgCpu: 0, avgMemory: 0, totalMemoryUsage: 0 },
  health: { status: "healthy", warnings: 0, errors: 0 },
};
