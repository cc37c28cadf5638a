import os from "node:os";
import WebSocket from "ws";
import {
  CLOSE_CODES,
  DOCKER_STATE_TOPIC,
  KEEPALIVE_PING,
  KEEPALIVE_PONG,
  CHUNK_BATCHES_SINCE,
  MAX_FRAME_BYTES,
  PROTOCOL_VERSION,
  type HelloFrame,
  edgeFrame,
  parseFrame,
} from "../shared/protocol";
import { Backoff } from "./backoff";
import type { Logger } from "./log";
import { AgentRpc, type RpcOptions } from "./rpc";

export const AGENT_VERSION = "0.1.0";
/** The edge names the host in this header of its upgrade answer; `hello` repeats it back. */
export const HOST_ID_HEADER = "x-kai-host-id";

export interface ConnectionOptions {
  server: string;
  token: string;
  log: Logger;
  /** Builds the per-connection RPC layer once the host id is known. */
  rpcFor: (hostId: string, send: RpcOptions["send"], batchChunks: () => boolean) => AgentRpc;
  /** Asked on every connect, so the edge always has the engine's current state. */
  dockerState: () => Promise<HelloFrame["docker"]>;
  backoff?: Backoff;
  sleep?: (ms: number) => Promise<void>;
  /** Jitter source (uniform in [0, 1)); injectable so tests can pin the delays. */
  random?: () => number;
  keepaliveMs?: number;
  /** How often the Docker engine's state is re-checked and, when it changed, reported. */
  dockerCheckMs?: number;
  /**
   * Work that runs for as long as one connection is welcomed (the Docker event watcher):
   * it publishes host events, and stops when `signal` aborts as the connection ends.
   */
  whileConnected?: (hostId: string, publish: (topic: string, data: unknown) => void, signal: AbortSignal) => void;
}

/** Close codes after which reconnecting cannot help. */
const FINAL_CLOSES = new Map<number, string>([
  [CLOSE_CODES.TOKEN_REVOKED, "this host was deleted or its token revoked; enroll it again"],
  [CLOSE_CODES.VERSION_UNSUPPORTED, "the edge no longer speaks this agent's protocol; upgrade kai-agent"],
]);

/**
 * After REPLACED (another agent with this host's token took over) the agent waits this long,
 * plus up to REPLACED_JITTER_MS, and dials again. Not final: a stray or failed dial must not
 * take the host offline for good. Not the normal backoff either: two agents sharing one token
 * would then evict each other every few seconds (a flapping host and a webhook storm); a
 * minute-scale wait leaves the newer one in place and the log says what to do.
 */
export const REPLACED_RETRY_MS = 60_000;
export const REPLACED_JITTER_MS = 60_000;

export function connectUrl(server: string): string {
  const url = new URL("/api/agent/connect", server);
  url.protocol = url.protocol === "https:" ? "wss:" : url.protocol === "http:" ? "ws:" : url.protocol;
  return url.toString();
}

/**
 * How a connection ended; `retryAfterMs` when the edge asked the agent to wait (429/503 with
 * Retry-After); `waitMs` when the wait is decided already (replaced) and wins over the backoff.
 */
type Ending = { final: false; retryAfterMs?: number; waitMs?: number } | { final: true; reason: string };

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
        // The edge's Retry-After wins over a shorter backoff step, with a little jitter of its own.
        const backoff = this.#backoff.next();
        const delay = waitMs || (retryAfterMs ? Math.max(backoff, retryAfterMs + Math.round(this.#random() * 1000)) : backoff);
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

  #connectOnce(): Promise<Ending> {
    const { server, token, log, rpcFor, dockerState } = this.#options;
    const url = connectUrl(server);
    log("info", "connecting", { server: url });
    return new Promise<Ending>((resolve) => {
      const socket = new WebSocket(url, {
        headers: { Authorization: `Bearer ${token}` },
        maxPayload: MAX_FRAME_BYTES,
        handshakeTimeout: 15_000,
        // Frames are small JSON or base64 file chunks: compressing each one costs more CPU on
        // both ends than it saves on the wire, and it caps the relay's frame rate.
        perMessageDeflate: false,
      });
      this.#socket = socket;
      let rpc: AgentRpc | undefined;
      let keepalive: ReturnType<typeof setInterval> | undefined;
      let dockerWatch: ReturnType<typeof setInterval> | undefined;
      let lastDocker = "";
      let eventSeq = 0;
      let hostId = "";
      let edgeProtocol = 0;
      const connectionWork = new AbortController();
      const publish = (topic: string, data: unknown) => {
        if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: "event", topic, seq: eventSeq++, data }));
      };
      let awaitingPong = false;
      let refused: Ending | undefined;

      socket.on("upgrade", (response) => {
        hostId = String(response.headers[HOST_ID_HEADER] ?? "");
        const send: RpcOptions["send"] = (text) => {
          if (socket.readyState === WebSocket.OPEN) socket.send(text);
        };
        rpc = rpcFor(hostId, send, () => edgeProtocol >= CHUNK_BATCHES_SINCE);
        socket.once("open", async () => {
          const docker = await dockerState();
          lastDocker = JSON.stringify(docker);
          const hello = {
            type: "hello",
            protocolVersion: PROTOCOL_VERSION,
            agentVersion: AGENT_VERSION,
            hostId,
            capabilities: [],
            docker,
            os: `${os.type()} ${os.release()}`,
            arch: os.arch(),
            hostname: os.hostname(),
          } satisfies HelloFrame;
          if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(hello));
        });
      });

      socket.on("unexpected-response", (_request, response) => {
        const status = response.statusCode ?? 0;
        if (status === 401 || status === 403) {
          log("error", "refused: the agent token is invalid or revoked; enroll the host again", { status });
          refused = { final: true, reason: "token refused" };
        } else {
          const seconds = Number(response.headers["retry-after"]);
          if (Number.isFinite(seconds) && seconds > 0) refused = { final: false, retryAfterMs: Math.min(seconds, 300) * 1000 };
          log("warn", "the edge refused the connection", { status, ...(refused ? { retry_after_s: seconds } : {}) });
        }
        socket.terminate();
      });

      socket.on("message", (data, isBinary) => {
        const text = isBinary ? "" : data.toString();
        if (text === KEEPALIVE_PONG) {
          awaitingPong = false;
          return;
        }
        const frame = parseFrame(edgeFrame, text);
        if (!frame) {
          log("warn", "ignoring an invalid frame from the edge");
          return;
        }
        if (frame.type === "welcome") {
          log("info", "connected", { host: frame.hostName, host_id: frame.hostId, protocol: frame.protocolVersion });
          edgeProtocol = frame.protocolVersion;
          this.#backoff.reset();
          clearInterval(dockerWatch);
          dockerWatch = setInterval(async () => {
            const docker = await dockerState();
            if (JSON.stringify(docker) === lastDocker || socket.readyState !== WebSocket.OPEN) return;
            lastDocker = JSON.stringify(docker);
            log(docker.ok ? "info" : "warn", docker.ok ? "docker engine reachable" : "docker engine unreachable", { version: docker.version ?? undefined });
            publish(DOCKER_STATE_TOPIC, docker);
          }, this.#options.dockerCheckMs ?? 15_000);
          if (!connectionWork.signal.aborted) this.#options.whileConnected?.(hostId, publish, connectionWork.signal);
        } else if (frame.type === "req") {
          void rpc?.handle(frame);
        } else {
          rpc?.cancel(frame.id);
        }
      });

      keepalive = setInterval(() => {
        if (socket.readyState !== WebSocket.OPEN) return;
        // Two intervals without a pong: the path is dead even if TCP has not noticed yet.
        if (awaitingPong) {
          log("warn", "no keepalive answer from the edge; reconnecting");
          socket.terminate();
          return;
        }
        awaitingPong = true;
        socket.send(KEEPALIVE_PING);
      }, this.#options.keepaliveMs ?? 20_000);

      socket.on("error", (error) => log("warn", "connection error", { error: error.message }));

      socket.on("close", (code, reasonBuffer) => {
        clearInterval(keepalive);
        clearInterval(dockerWatch);
        connectionWork.abort();
        rpc?.abortAll();
        this.#socket = undefined;
        const reason = reasonBuffer.toString();
        const final = FINAL_CLOSES.get(code);
        if (refused) return resolve(refused);
        if (final) {
          log("error", `disconnected for good: ${final}`, { code, reason });
          return resolve({ final: true, reason: final });
        }
        if (code === CLOSE_CODES.REPLACED) {
          const waitMs = REPLACED_RETRY_MS + Math.round(this.#random() * REPLACED_JITTER_MS);
          log(
            "warn",
            `another kai-agent with this host's token took over; retrying in ${Math.round(waitMs / 1000)} s — stop the other one or enroll this machine separately`,
            { code, reason },
          );
          return resolve({ final: false, waitMs });
        }
        log("warn", "disconnected", { code, reason });
        resolve({ final: false });
      });
    });
  }
}
