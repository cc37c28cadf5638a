import { COMMANDS, isOp, type Op } from "../shared/commands";
import { KaiError, type WireError } from "../shared/errors";
import { encodeAgentFrame, MAX_FRAME_BYTES, type ReplyFrame, type RequestFrame } from "../shared/protocol";
import { ChunkBatcher } from "./chunk-batcher";
import { chunkJsonOf } from "./chunk-json";
import type { HandlerContext, Handlers, RequestContext } from "./handlers/types";
import type { Logger } from "./log";

/**
 * Requests one agent runs at once. Each holds a handler's resources (a git process, a Docker
 * stream, a watcher) until it answers; past this many, a misbehaving or overloaded edge gets
 * RATE_LIMITED at once instead of the host running out of processes or descriptors. Far above
 * what a person's dashboard and scripts keep open (a few streams and a handful of calls).
 */
export const MAX_CONCURRENT_REQUESTS = 64;

export interface RpcOptions {
  handlers: Handlers;
  /** Everything a handler gets except what is per request. */
  context: Omit<RequestContext, "requestId" | "signal">;
  /** Sends one frame's text on the socket (frames are serialized here, once). */
  send: (text: string) => void;
  /** Whether the edge takes `chunks` frames (it said protocol 2 or later in its welcome). */
  batchChunks?: () => boolean;
  log: Logger;
  /** At most this many requests run at once (MAX_CONCURRENT_REQUESTS). */
  maxConcurrent?: number;
}

function toWireError(error: unknown, log: Logger, requestId: string): WireError {
  if (error instanceof KaiError) {
    return { code: error.code, message: error.message, ...(error.details ? { details: error.details } : {}) };
  }
  // Anything else is a bug or an unexpected runtime failure: log it here, send no stack.
  log("error", "handler failed unexpectedly", {
    request: requestId,
    error: error instanceof Error ? (error.stack ?? error.message) : String(error),
  });
  return { code: "INTERNAL_ERROR", message: "the host agent failed unexpectedly; see its log" };
}

/**
 * The agent's RPC layer: validates each request against the command table, runs its
 * handler, and replies exactly once. It never sees the socket, only `send`.
 */
export class AgentRpc {
  readonly #options: RpcOptions;
  readonly #inflight = new Map<string, AbortController>();

  constructor(options: RpcOptions) {
    this.#options = options;
  }

  async handle(frame: RequestFrame): Promise<void> {
    const { log, send } = this.#options;
    const started = performance.now();
    const limit = this.#options.maxConcurrent ?? MAX_CONCURRENT_REQUESTS;
    if (this.#inflight.size >= limit) {
      const error: WireError = {
        code: "RATE_LIMITED",
        message: `the host agent is already running ${limit} requests; retry when one has finished`,
      };
      log("warn", "request", { request: frame.id, op: frame.op, outcome: error.code, ms: 0 });
      return send(encodeAgentFrame({ type: "res", id: frame.id, ok: false, error }));
    }
    const controller = new AbortController();
    this.#inflight.set(frame.id, controller);
    const batching = this.#options.batchChunks?.() ?? false;
    const chunks = new ChunkBatcher(frame.id, send, batching, chunkJsonOf(frame.op));
    controller.signal.addEventListener("abort", () => chunks.discard(), { once: true });
    let reply: ReplyFrame;
    let text: string;
    try {
      const result = await this.#dispatch(frame, controller.signal, chunks);
      reply = { type: "res", id: frame.id, ok: true, result };
      // Serialized once: measured here, and this text is what is sent.
      text = encodeAgentFrame(reply);
      if (text.length > MAX_FRAME_BYTES) {
        throw new KaiError(
          "PAYLOAD_TOO_LARGE",
          `the answer to ${frame.op} is larger than one frame; narrow the request`,
        );
      }
    } catch (error) {
      reply = { type: "res", id: frame.id, ok: false, error: toWireError(error, log, frame.id) };
      text = encodeAgentFrame(reply);
    } finally {
      this.#inflight.delete(frame.id);
    }
    const ms = Math.round(performance.now() - started);
    // The answer goes before the log line: writing the line (a pipe to journald or the
    // terminal) can wake another process, and the caller should not wait behind it.
    if (!controller.signal.aborted) {
      chunks.flush();
      send(text);
    }
    log(reply.ok ? "info" : "warn", "request", {
      request: frame.id,
      op: frame.op,
      outcome: reply.ok ? "ok" : reply.error.code,
      ms,
    });
  }

  /** The edge no longer wants the answer (its viewer left): the handler stops, and nothing is sent. */
  cancel(id: string): void {
    this.#inflight.get(id)?.abort(new KaiError("CANCELLED", "cancelled by the edge"));
  }

  /** Stops every running request, e.g. when the connection they came on is gone. */
  abortAll(): void {
    for (const controller of this.#inflight.values())
      controller.abort(new KaiError("AGENT_OFFLINE", "the connection closed"));
    this.#inflight.clear();
  }

  /** Requests running now. */
  get inflight(): number {
    return this.#inflight.size;
  }

  async #dispatch(frame: RequestFrame, signal: AbortSignal, chunks: ChunkBatcher): Promise<unknown> {
    if (!isOp(frame.op))
      throw new KaiError("VALIDATION_ERROR", `unknown operation ${frame.op}; this agent may be older than the edge`);
    const op: Op = frame.op;
    const params = COMMANDS[op].params.safeParse(frame.params);
    if (!params.success) {
      throw new KaiError("VALIDATION_ERROR", `invalid parameters for ${op}`, {
        details: { issues: params.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`) },
      });
    }
    // Indexing by a union op loses the pairing of params, handler and chunk type; all come
    // from the same `op` just above.
    const handler = this.#options.handlers[op] as (params: unknown, ctx: HandlerContext) => Promise<unknown>;
    const emit = (data: unknown) => {
      if (!signal.aborted) chunks.push(data);
    };
    return handler(params.data, { ...this.#options.context, requestId: frame.id, signal, emit });
  }
}
