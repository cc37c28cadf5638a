import { type ChildProcess, fork } from "node:child_process";
import path from "node:path";
import type { ContainerEvent } from "../../shared/schemas/services";
import { ROOT } from "../../test/support/edge-server";
import type { SwarmAgent, SwarmHost } from "./agent-swarm";
import { meterCpu } from "./cpu-meter";
import type { RelayWindow, SamplerWindow } from "./fleet-window";
import type { Endpoint } from "./http-load";
import type { ProbeState, SamplerMessage, SamplerRequest } from "./relay-sampler";

const SAMPLER = path.join(ROOT, "bench", "support", "relay-sampler.ts");

/** Distributes Omit over a union, so each request keeps its own fields without the id. */
type WithoutId<T> = T extends unknown ? Omit<T, "id"> : never;

/**
 * The fleet's probe agent, run with the relay's HTTP client in a process of their own
 * (relay-sampler.ts says why), seen by the swarm as one more agent: its state is mirrored
 * here as the sampler reports it, and it samples relay windows on request.
 */
export class ProbeProcess implements SwarmAgent {
  welcomedAt: number | undefined;
  online = false;
  dials = 0;
  refusals = 0;
  connectionErrors = 0;
  errors: string[] = [];
  readonly #child: ChildProcess;
  readonly #waiting = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  readonly #exited: Promise<void>;
  #nextId = 1;

  private constructor(
    readonly host: SwarmHost,
    child: ChildProcess,
  ) {
    this.#child = child;
    this.#exited = new Promise((resolve) => child.once("exit", () => resolve()));
    child.on("message", (message: SamplerMessage) => this.#received(message));
    child.once("exit", (code, signal) => {
      for (const { reject } of this.#waiting.values()) {
        reject(new Error(`the relay sampler exited (${code ?? signal}) before answering`));
      }
      this.#waiting.clear();
    });
  }

  /** Starts the sampler's process; resolves once it is ready (its agent not dialling yet). */
  static async start(server: string, host: SwarmHost): Promise<ProbeProcess> {
    const child = fork(SAMPLER, [server, JSON.stringify(host)], {
      cwd: ROOT,
      execArgv: ["--import", "tsx"],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    const probe = new ProbeProcess(host, child);
    // The sampler's first message (id 0) says it is ready.
    await new Promise((resolve, reject) => probe.#waiting.set(0, { resolve, reject }));
    return probe;
  }

  start(): void {
    this.#ask({ op: "start" }).catch((error: Error) => this.errors.push(error.message));
  }

  async stop(): Promise<void> {
    await this.#ask({ op: "stop" });
  }

  async retarget(server: string): Promise<void> {
    await this.#ask({ op: "retarget", server });
  }

  /** Sent to the sampler; true when the probe was welcomed as far as this process knows. */
  event(event: ContainerEvent): boolean {
    if (!this.online) return false;
    this.#ask({ op: "event", event }).catch((error: Error) => this.errors.push(error.message));
    return true;
  }

  /** performance.now() (this process's) of each ping request the probe agent was handed. */
  async pingsReceived(): Promise<number[]> {
    const epochs = (await this.#ask({ op: "pings" })) as number[];
    return epochs.map((at) => at - performance.timeOrigin);
  }

  /**
   * One relay window sampled by the sampler's process, with the CPU each process group spent
   * meanwhile metered from here (the sampler is one of this bench's processes).
   */
  async window(endpoints: Endpoint[], rounds: number, warmupRounds: number): Promise<Omit<RelayWindow, "rest">> {
    const { result, cpu } = await meterCpu(
      [],
      () => this.#ask({ op: "window", endpoints, rounds, warmupRounds }) as Promise<SamplerWindow>,
    );
    return { ...result, cpu, requests: (warmupRounds + rounds) * endpoints.length };
  }

  /** Ends the sampler's process (its agent stops with it). */
  async close(): Promise<void> {
    if (this.#child.connected) this.#child.disconnect();
    const killer = setTimeout(() => this.#child.kill("SIGKILL"), 10_000);
    await this.#exited;
    clearTimeout(killer);
  }

  #ask(request: WithoutId<SamplerRequest>): Promise<unknown> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      this.#child.send({ ...request, id });
    });
  }

  #received(message: SamplerMessage): void {
    if ("state" in message) {
      this.#mirror(message.state);
      return;
    }
    const waiting = this.#waiting.get(message.id);
    this.#waiting.delete(message.id);
    if ("error" in message) waiting?.reject(new Error(`relay sampler: ${message.error}`));
    else waiting?.resolve(message.result);
  }

  #mirror(state: ProbeState): void {
    this.welcomedAt = state.welcomedAtEpoch === undefined ? undefined : state.welcomedAtEpoch - performance.timeOrigin;
    this.online = state.online;
    this.dials = state.dials;
    this.refusals = state.refusals;
    this.connectionErrors = state.connectionErrors;
    this.errors = state.errors;
  }
}
