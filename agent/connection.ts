import WebSocket from "ws";
import { CHUNK_BATCHES_SINCE, edgeFrame, type HelloFrame, KEEPALIVE_PONG, parseFrame } from "../shared/protocol";
import type { AgentProfileInfo } from "../shared/schemas/agent-profiles";
import { Backoff } from "./backoff";
import { connectUrl, dial, HOST_ID_HEADER, helloFrame, sendFrame, sendText } from "./connection/dial";
import { type EngineStreamHooks, followDockerState } from "./connection/docker-state-follower";
import { closeEnding, type Ending, refusalEnding } from "./connection/endings";
import { Keepalive } from "./connection/keepalive";
import type { Logger } from "./log";
import type { AgentRpc, RpcOptions } from "./rpc";

/**
 * The longest the hello waits for the engine's state: a hung Docker daemon must not hold the
 * connect's turn at the edge. Past it the state is reported as not ok, which the Docker-state
 * follower corrects once the engine answers (its event stream opens, or the retry finds it).
 */
const HELLO_DOCKER_WAIT_MS = 2_500;
/** The follower's wait: nothing waits on it, so an engine slow under load is not called down. */
const DOCKER_CHECK_WAIT_MS = 10_000;
/**
 * How often an engine whose event stream is open is asked anyway. The stream reports an engine
 * that stops, restarts or is upgraded within about a second; this only catches one that hangs
 * with its socket open (a deadlocked dockerd), which is rare and for which minutes are soon
 * enough. A Docker request costs ~80 calls of Node's argument validators: checked every 15 s,
 * those calls made V8 optimise the validators' shared wrapper about 4 minutes into an idle
 * run, which makes ~3.6 MiB of TurboFan's code resident (README, agent-footprint).
 */
const DOCKER_LIVENESS_MS = 5 * 60_000;
/** While the engine is not ok, it is asked this often: a slow answer under load must not stand for minutes. */
const DOCKER_RETRY_MS = 15_000;

export { REPLACED_JITTER_MS, REPLACED_RETRY_MS } from "./connection/endings";

export interface ConnectionOptions {
  server: string;
  token: string;
  log: Logger;
  /** Builds the per-connection RPC layer once the host id is known. */
  rpcFor: (hostId: string, send: RpcOptions["send"], batchChunks: () => boolean) => AgentRpc;
  /**
   * The engine's state, answered within `timeoutMs` (past it: not ok). Asked on every dial, so
   * the edge always has the engine's current state, and by the Docker-state follower.
   */
  dockerState: (timeoutMs: number) => Promise<HelloFrame["docker"]>;
  /** The agent profiles hello reports (agent sessions). */
  agentProfiles?: AgentProfileInfo[];
  backoff?: Backoff;
  sleep?: (ms: number) => Promise<void>;
  /** Jitter source (uniform in [0, 1)); injectable so tests can pin the delays. */
  random?: () => number;
  keepaliveMs?: number;
  /**
   * How often an engine that answers is re-checked while its event stream is open (one that
   * hangs with its socket open); a change is reported when found. Default 5 minutes.
   */
  dockerCheckMs?: number;
  /**
   * Work that runs for as long as one connection is welcomed (the Docker event watcher):
   * it publishes host events, and stops when `signal` aborts as the connection ends. The
   * watcher tells `engineStream` when the engine's event stream opens and ends: the reported
   * Docker state follows it.
   */
  whileConnected?: (
    hostId: string,
    publish: (topic: string, data: unknown) => void,
    signal: AbortSignal,
    asks: EdgeAsks,
    engineStream: EngineStreamHooks,
  ) => void;
}

/** What the edge may ask of a connection's running work; `whileConnected` fills in who answers. */
export interface EdgeAsks {
  /** The owner's feed gained its first viewer (true) or lost its last (false): see the `stats` frame. */
  hostStats?: (send: boolean) => void;
}

/**
 * The one reconnect loop: dial, say hello, serve requests until the socket ends, wait a
 * jittered backoff, dial again. Returns only when reconnecting cannot help (revoked, too
 * old) or `stop` is called. Replaced by another agent, it waits minutes rather than seconds.
 */
export class AgentConnection {
  readonly #options: ConnectionOptions;
  readonly #backoff: Backoff;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #random: () => number;
  #socket: WebSocket | undefined;
  #stopped = false;

  constructor(options: ConnectionOptions) {
    this.#options = options;
    this.#backoff = options.backoff ?? new Backoff();
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.#random = options.random ?? Math.random;
  }

  async run(): Promise<string> {
    const { log } = this.#options;
    let first = true;
    let retryAfterMs = 0;
    let waitMs = 0;
    while (!this.#stopped) {
      if (!first) {
        // The edge's Retry-After is its pacer's schedule for this agent (spread one turn apart
        // from the others it refused), so it is kept to, with a little jitter of its own for
        // the whole seconds it comes in, whatever backoff step earlier failures reached; and it
        // does not lengthen the backoff, which is for an edge that cannot be reached or failed.
        // Taking the longer of the two sent agents back up to 10 s after their turn would have
        // come in a fleet's connect, leaving the edge idle while they waited.
        const delay =
          waitMs || (retryAfterMs ? retryAfterMs + Math.round(this.#random() * 1000) : this.#backoff.next());
        log("info", "reconnecting", { in_ms: delay });
        await this.#sleep(delay);
        if (this.#stopped) break;
      }
      first = false;
      const ending = await this.#connectOnce();
      if (ending.final) return ending.reason;
      retryAfterMs = ending.retryAfterMs ?? 0;
      waitMs = ending.waitMs ?? 0;
    }
    return "stopped";
  }

  stop(): void {
    this.#stopped = true;
    this.#socket?.close(1000, "agent stopping");
  }

  /**
   * One connection, from dial to close. Its parts live in agent/connection/: dialing and
   * `hello` (dial.ts), the keepalive (keepalive.ts), the Docker-state follower that the
   * container-event watcher drives while the connection is welcomed (docker-state-follower.ts),
   * and what a refusal or close code means for the loop (endings.ts).
   */
  #connectOnce(): Promise<Ending> {
    const { server, token, log, rpcFor, dockerState } = this.#options;
    const url = connectUrl(server);
    log("info", "connecting", { server: url });
    return new Promise<Ending>((resolve) => {
      // Asked as the dial starts, so a slow engine is waited for while the dial waits for its
      // turn at the edge, not after: the hello waits for it while the connect holds that turn.
      const engine = dockerState(HELLO_DOCKER_WAIT_MS);
      const socket = dial(url, token);
      this.#socket = socket;
      /** Aborts when the socket closes: everything that runs for this connection stops with it. */
      const connectionWork = new AbortController();
      const keepalive = new Keepalive(socket, this.#options.keepaliveMs ?? 20_000, log);
      // What this connection learns as it goes: its host, the edge's protocol, the engine state it said hello with.
      const connection = {
        hostId: "",
        edgeProtocol: 0,
        hello: undefined as HelloFrame["docker"] | undefined,
        eventSeq: 0,
      };
      let rpc: AgentRpc | undefined;
      let refused: Ending | undefined;
      const asks: EdgeAsks = {};
      const publish = (topic: string, data: unknown) =>
        sendFrame(socket, { type: "event", topic, seq: connection.eventSeq++, data });

      socket.on("upgrade", (response) => {
        connection.hostId = String(response.headers[HOST_ID_HEADER] ?? "");
        const send: RpcOptions["send"] = (text) => sendText(socket, text);
        rpc = rpcFor(connection.hostId, send, () => connection.edgeProtocol >= CHUNK_BATCHES_SINCE);
        socket.once("open", async () => {
          connection.hello = await engine;
          sendFrame(socket, helloFrame(connection.hostId, connection.hello, this.#options.agentProfiles));
        });
      });

      socket.on("unexpected-response", (_request, response) => {
        refused = refusalEnding(response, log);
        socket.terminate();
      });

      socket.on("message", (data, isBinary) => {
        const text = isBinary ? "" : data.toString();
        if (text === KEEPALIVE_PONG) return keepalive.pong();
        const frame = parseFrame(edgeFrame, text);
        if (!frame) {
          log("warn", "ignoring an invalid frame from the edge");
          return;
        }
        if (frame.type === "welcome") {
          log("info", "connected", { host: frame.hostName, host_id: frame.hostId, protocol: frame.protocolVersion });
          connection.edgeProtocol = frame.protocolVersion;
          this.#backoff.reset();
          const open = () => socket.readyState === WebSocket.OPEN;
          this.#whileWelcomed(connection.hostId, connection.hello, publish, open, connectionWork.signal, asks);
        } else if (frame.type === "req") {
          void rpc?.handle(frame);
        } else if (frame.type === "stats") {
          asks.hostStats?.(frame.send);
        } else {
          rpc?.cancel(frame.id);
        }
      });

      socket.on("error", (error) => log("warn", "connection error", { error: error.message }));

      socket.on("close", (code, reasonBuffer) => {
        keepalive.stop();
        connectionWork.abort();
        rpc?.abortAll();
        this.#socket = undefined;
        resolve(refused ?? closeEnding(code, reasonBuffer.toString(), server, log, this.#random));
      });
    });
  }

  /**
   * The routines that run while the edge has welcomed this connection: the Docker-state
   * follower and the container-event watcher (`whileConnected`) that drives it. Both stop when
   * `signal` aborts.
   */
  #whileWelcomed(
    hostId: string,
    reported: HelloFrame["docker"] | undefined,
    publish: (topic: string, data: unknown) => void,
    canPublish: () => boolean,
    signal: AbortSignal,
    asks: EdgeAsks,
  ): void {
    const { dockerState, log } = this.#options;
    const engineStream = followDockerState({
      dockerState: () => dockerState(DOCKER_CHECK_WAIT_MS),
      reported,
      publish,
      canPublish,
      livenessMs: this.#options.dockerCheckMs ?? DOCKER_LIVENESS_MS,
      // Never slower than the liveness interval (tests set that short).
      retryMs: Math.min(DOCKER_RETRY_MS, this.#options.dockerCheckMs ?? DOCKER_RETRY_MS),
      log,
      signal,
    });
    if (!signal.aborted) this.#options.whileConnected?.(hostId, publish, signal, asks, engineStream);
  }
}
