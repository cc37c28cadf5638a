import { COMMANDS, type Op, isOp } from "../shared/commands";
import { KaiError, type WireError } from "../shared/errors";
import { type ChunkFrame, type ChunksFrame, MAX_FRAME_BYTES, type RequestFrame, type ResponseFrame } from "../shared/protocol";
import { ChunkBatcher } from "./chunk-batcher";
import type { HandlerContext, Handlers } from "./handlers/types";
import type { Logger } from "./log";

export interface RpcOptions {
  handlers: Handlers;
  /** Everything a handler gets except what is per request. */
  context: Omit<HandlerContext, "requestId" | "signal" | "emit">;
  send: (frame: ResponseFrame | ChunkFrame | ChunksFrame) => void;
  /** Whether the edge takes `chunks` frames (it said protocol 2 or later in its welcome). */
  batchChunks?: () => boolean;
  log: Logger;
}

function toWireError(error: unknown, log: Logger, requestId: string): WireError {
  if (error instanceof KaiError) {
    return { code: error.code, message: error.message, ...(error.details ? { details: error.details } : {}) };
  }
  // Anything else is a bug or an unexpected runtime failure: log it here, send no stack.
  log("error", "handler failed unexpectedly", { request: requestId, error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
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
    const controller = new AbortController();
    this.#inflight.set(frame.id, controller);
    const chunks = new ChunkBatcher(frame.id, send, this.#options.batchChunks?.() ?? false);
    controller.signal.addEventListener("abort", () => chunks.discard(), { once: true });
    let reply: ResponseFrame;
    try {
      const result = await this.#dispatch(frame, controller.signal, chunks);
      reply = { type: "res", id: frame.id, ok: true, result };
      if (JSON.stringify(reply).length > MAX_FRAME_BYTES) {
        throw new KaiError("PAYLOAD_TOO_LARGE", `the answer to ${frame.op} is larger than one frame; narrow the request`);
      }
    } catch (error) {
      reply = { type: "res", id: frame.id, ok: false, error: toWireError(error, log, frame.id) };
    } finally {
      this.#inflight.delete(frame.id);
    }
    const ms = Math.round(performance.now() - started);
    log(reply.ok ? "info" : "warn", "request", { request: frame.id, op: frame.op, outcome: reply.ok ? "ok" : reply.error.code, ms });
    if (controller.signal.aborted) return;
    chunks.flush();
    send(reply);
  }

  cancel(id: string): void {
    this.#inflight.get(id)?.abort(new KaiError("AGENT_OFFLINE", "cancelled by the edge"));
  }

  /** Stops every running request, e.g. when the connection they came on is gone. */
  abortAll(): void {
    for (const controller of this.#inflight.values()) controller.abort(new KaiError("AGENT_OFFLINE", "the connection closed"));
    this.#inflight.clear();
  }

  async #dispatch(frame: RequestFrame, signal: AbortSignal, chunks: ChunkBatcher): Promise<unknown> {
    if (!isOp(frame.op)) throw new KaiError("VALIDATION_ERROR", `unknown operation ${frame.op}; this agent may be older than the edge`);
    const op: Op = frame.op;
    const params = COMMANDS[op].params.safeParse(frame.params);
    if (!params.success) {
      throw new KaiError("VALIDATION_ERROR", `invalid parameters for ${op}`, { details: { issues: params.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`) } });
    }
    // Indexing by a union op loses the pairing of params and handler; both come from the same `op` just above.
    const handler = this.#options.handlers[op] as (params: unknown, ctx: HandlerContext) => Promise<unknown>;
    const emit = (data: unknown) => {
      if (!signal.aborted) chunks.push(data);
    };
    return handler(params.data, { ...this.#options.context, requestId: frame.id, signal, emit });
  }
}
