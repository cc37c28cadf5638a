import { mkdtemp, realpath, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { AgentConnection } from "../../agent/connection";
import { handlers } from "../../agent/handlers";
import type { Logger } from "../../agent/log";
import { defaultPolicy } from "../../agent/policy";
import { AgentRpc } from "../../agent/rpc";
import { AgentSessions } from "../../agent/runtime/acp/agent-sessions";
import { createDockerClient } from "../../agent/runtime/docker/client";
import { LiveStats } from "../../agent/runtime/docker/live-stats";
import { CONTAINER_EVENT_TOPIC, type HelloFrame } from "../../shared/protocol";
import type { ContainerEvent } from "../../shared/schemas/services";

/**
 * Many simulated agents in ONE process: each is kai-agent's own connection loop
 * (agent/connection.ts: dial, hello, keepalive ping, the jittered backoff, the edge's
 * 429 + Retry-After honoured) and its own RPC layer and handler table (agent/rpc.ts,
 * agent/handlers), so a request such as `ping` or `container.list` goes through the same code
 * as in a real agent, against the real Docker engine. What is not simulated: each agent's own
 * Node process and its Docker event watcher, hence its container index (a list asks Docker,
 * as a real agent does while its event stream is down); events are sent by the bench instead
 * (`event`), through the same publish function the watcher uses.
 */

export interface SwarmHost {
  id: string;
  token: string;
}

/**
 * What the swarm and the fleet bench read and drive of an agent: a SimAgent in this process,
 * or the probe agent in a process of its own (probe-process.ts).
 */
export interface SwarmAgent {
  readonly host: SwarmHost;
  /** performance.now() of the latest welcome; undefined until the first. */
  welcomedAt: number | undefined;
  /** Whether the edge's welcome holds now (reset when the connection ends). */
  online: boolean;
  dials: number;
  /** Upgrades the edge answered with an HTTP status instead (429 with Retry-After, mostly). */
  refusals: number;
  /** Dials that failed before an answer (the agent's handshake timeout, mostly). */
  connectionErrors: number;
  errors: string[];
  /** Starts the reconnect loop (a no-op while it runs). */
  start(): void;
  stop(): Promise<void>;
  /** The edge's address for the next dials (a Worker restarted direct, without wrangler's proxy, has a new port). */
  retarget(server: string): Promise<void>;
  /** Reports a container event as the agent's Docker watcher would; false while not welcomed. */
  event(event: ContainerEvent): boolean;
}

/** What one simulated agent did, from its own connection loop's log. */
class SimAgent implements SwarmAgent {
  /** performance.now() of the latest welcome; undefined until the first. */
  welcomedAt: number | undefined;
  /** Whether the edge's welcome holds now (reset when the connection ends). */
  online = false;
  dials = 0;
  /** Upgrades the edge answered with an HTTP status instead (429 with Retry-After, mostly). */
  refusals = 0;
  /** Dials that failed before an answer (the agent's handshake timeout, mostly). */
  connectionErrors = 0;
  errors: string[] = [];
  /** performance.now() of each `ping` request this agent's RPC layer was handed (where a relay ping got to). */
  readonly pingsReceived: number[] = [];
  /** Per answered ping, ms from its handler being called to its answer handed to the socket (the probe's own work). */
  readonly pingHandlingMs: number[] = [];
  /** Called after any of the fields above changed (the probe's process reports them to the bench). */
  onChange: () => void = () => undefined;
  #pingAt: number | undefined;
  #publish: ((topic: string, data: unknown) => void) | undefined;
  #connection: AgentConnection | undefined;
  #loop: Promise<string> | undefined;
  #server: string;

  constructor(
    readonly host: SwarmHost,
    server: string,
    private readonly shared: Shared,
  ) {
    this.#server = server;
  }

  async retarget(server: string): Promise<void> {
    this.#server = server;
  }

  /** Starts the reconnect loop (a no-op while it runs). */
  start(): void {
    if (this.#loop) return;
    const { shared } = this;
    const log: Logger = (level, message, fields) => {
      if (message === "connecting") this.dials += 1;
      else if (message === "the edge refused the connection") this.refusals += 1;
      else if (message === "connection error") this.connectionErrors += 1;
      else if (level === "error") this.errors.push(`${message} ${JSON.stringify(fields ?? {})}`);
      else return;
      this.onChange();
    };
    const server = () => this.#server;
    this.#connection = new AgentConnection({
      // A getter: the connection reads its options at every dial, so a running loop's next dial follows a retarget.
      get server() {
        return server();
      },
      token: this.host.token,
      log,
      rpcFor: (hostId, send, batchChunks) =>
        new AgentRpc({
          handlers: { ...handlers, ping: (params, context) => this.#pinged(params, context) },
          context: { ...shared.context, hostId },
          send: (text) => {
            if (this.#pingAt !== undefined) this.pingHandlingMs.push(performance.now() - this.#pingAt);
            this.#pingAt = undefined;
            return send(text);
          },
          batchChunks,
          log: quiet,
        }),
      dockerState: async () => shared.docker,
      // Called on every welcome with the connection's publish, until `signal` aborts.
      whileConnected: (_hostId, publish, signal) => {
        this.welcomedAt = performance.now();
        this.online = true;
        this.#publish = publish;
        this.onChange();
        signal.addEventListener("abort", () => {
          this.online = false;
          this.#publish = undefined;
          this.onChange();
        });
      },
    });
    this.#loop = this.#connection.run();
  }

  async stop(): Promise<void> {
    this.#connection?.stop();
    await this.#loop;
    this.#loop = undefined;
    this.#connection = undefined;
  }

  #pinged(...args: Parameters<typeof handlers.ping>): ReturnType<typeof handlers.ping> {
    this.#pingAt = performance.now();
    this.pingsReceived.push(this.#pingAt);
    return handlers.ping(...args);
  }

  /** Reports a container event as the agent's Docker watcher would; false while not welcomed. */
  event(event: ContainerEvent): boolean {
    if (!this.#publish) return false;
    this.#publish(CONTAINER_EVENT_TOPIC, event);
    return true;
  }
}

const quiet: Logger = () => undefined;

/** What every simulated agent shares, as one kai-agent shares it across its reconnects. */
interface Shared {
  context: Omit<ConstructorParameters<typeof AgentRpc>[0]["context"], "hostId">;
  docker: HelloFrame["docker"];
  root: string;
  liveStats: LiveStats;
}

export class AgentSwarm {
  /** Every agent: those run elsewhere first, then `simulated`. */
  readonly agents: SwarmAgent[];

  private constructor(
    first: SwarmAgent[],
    /** The agents this process runs. */
    readonly simulated: SimAgent[],
    private readonly shared: Shared,
  ) {
    this.agents = [...first, ...simulated];
  }

  /** `first`: agents that run elsewhere (the probe's process), placed before the simulated ones of `hosts`. */
  static async create(server: string, hosts: SwarmHost[], first: SwarmAgent[] = []): Promise<AgentSwarm> {
    const docker = createDockerClient();
    const version = await docker.version().then(
      (info) => info.Version,
      () => null,
    );
    const root = await realpath(await mkdtemp(path.join(os.tmpdir(), "kai-bench-swarm-")));
    const liveStats = new LiveStats(docker);
    const shared: Shared = {
      context: {
        policy: { ...defaultPolicy(), allowedRoots: [root] },
        docker,
        liveStats,
        agentSessions: new AgentSessions({ profiles: [] }),
      },
      docker: { ok: version !== null, version },
      root,
      liveStats,
    };
    return new AgentSwarm(
      first,
      hosts.map((host) => new SimAgent(host, server, shared)),
      shared,
    );
  }

  start(agents: SwarmAgent[] = this.agents): void {
    for (const agent of agents) agent.start();
  }

  /** Points every agent's next dials at `server`. */
  async retarget(server: string): Promise<void> {
    await Promise.all(this.agents.map((agent) => agent.retarget(server)));
  }

  online(): number {
    return this.agents.filter((agent) => agent.online).length;
  }

  /**
   * Waits until each of `agents` was welcomed after `since` (performance.now()) or
   * `timeoutMs` passed, printing the count every 2 s; never throws: a fleet that did not
   * get in is a finding, reported with how far it got.
   */
  async welcomedAfter(since: number, what: string, timeoutMs: number, agents = this.agents): Promise<Arrival> {
    const timeline: number[] = [];
    for (;;) {
      const done = agents.filter((agent) => (agent.welcomedAt ?? 0) > since);
      const elapsed = performance.now() - since;
      const all = done.length === agents.length;
      if (all || elapsed > timeoutMs) {
        return {
          welcomed: done.length,
          lastAt: all ? Math.max(...done.map((agent) => agent.welcomedAt ?? 0)) : undefined,
          timeline,
        };
      }
      if (elapsed >= timeline.length * 2000) {
        timeline.push(done.length);
        const count = (key: "refusals" | "connectionErrors") => agents.reduce((sum, agent) => sum + agent[key], 0);
        process.stderr.write(
          `  fleet: ${what}: ${done.length}/${agents.length} welcomed after ${Math.round(elapsed / 1000)} ` +
            `s (so far ${count("refusals")} dials answered 429, ${count("connectionErrors")} ` +
            `failed)\n`,
        );
      }
      await sleep(100);
    }
  }

  /**
   * Starts `agents` one after another keeping at most `inFlight` of them dialling (started,
   * not yet welcomed after `since`): a closed loop that goes exactly as fast as the edge
   * lets agents in, whatever the machine.
   */
  async startClosedLoop(agents: SwarmAgent[], inFlight: number, since: number): Promise<void> {
    let next = 0;
    while (next < agents.length) {
      const dialling = agents.slice(0, next).filter((agent) => (agent.welcomedAt ?? 0) <= since).length;
      for (let free = inFlight - dialling; free > 0 && next < agents.length; free--) agents[next++]?.start();
      await sleep(20);
    }
  }

  async stop(agents: SwarmAgent[] = this.agents): Promise<void> {
    await Promise.all(agents.map((agent) => agent.stop()));
  }

  /** Stops every agent and removes the shared root. */
  async close(): Promise<void> {
    await this.stop();
    this.shared.liveStats.stop();
    await rm(this.shared.root, { recursive: true, force: true });
  }
}

/** How far a fleet got: how many were welcomed, when the last was (all of them only), the count every 2 s. */
export interface Arrival {
  welcomed: number;
  lastAt: number | undefined;
  timeline: number[];
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export type { SimAgent };
