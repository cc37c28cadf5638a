import type Docker from "dockerode";
import type { ChunkOf, ResultOf } from "../../shared/command-replies";
import type { Op, ParamsOf, StreamOp } from "../../shared/commands";
import type { Policy } from "../policy";
import type { AgentSessions } from "../runtime/acp/agent-sessions";
import type { ContainerIndex } from "../runtime/docker/container-index";
import type { LiveStats } from "../runtime/docker/live-stats";

/**
 * How a handler of `O` sends one chunk: typed by the command's chunk schema; a command that
 * does not stream takes no chunk at all (`never`).
 */
type EmitOf<O extends Op> = O extends StreamOp ? (data: ChunkOf<O>) => void : (data: never) => void;

/**
 * What a handler may use. Handlers never see the socket: they take params and return a
 * result. A handler's own `ctx` is typed by its command. Without `O` (helpers shared by
 * several handlers, the RPC layer, tests) `emit` is left open both ways, so any handler's
 * context can be handed to a helper and a helper's to any handler.
 */
export type HandlerContext<O extends Op | undefined = undefined> = RequestContext &
  (O extends Op ? TypedEmit<O> : OpenEmit);

interface TypedEmit<O extends Op> {
  /**
   * Sends one chunk of a streamed command (batched with its neighbours into one frame; the
   * edge checks it against the command's chunk schema once, whoever receives it).
   */
  emit: EmitOf<O>;
}

interface OpenEmit {
  // A method, not a property: its parameter is checked both ways, which is what makes it open.
  emit(data: unknown): void;
}

/** Everything of a handler's context but its `emit`. */
export interface RequestContext {
  /** The edge's request id; it appears in every log line about this request. */
  requestId: string;
  /** The host this agent is enrolled as; Kai-managed containers are labelled with it. */
  hostId: string;
  policy: Policy;
  docker: Docker;
  /** Aborted when the edge cancels the request or the connection drops. */
  signal: AbortSignal;
  /** Live resource use of running containers, shared by every request of the agent. */
  liveStats: LiveStats;
  /**
   * Kai's containers kept current from the engine's events, so a list needs no Docker call;
   * absent (handler tests) or unsure, the handler asks Docker.
   */
  containerIndex?: ContainerIndex;
  /** The agent sessions of this kai-agent (coding agents over ACP), shared by every request. */
  agentSessions: AgentSessions;
  /**
   * The agent's own settings, for `doctor.run` to check what this agent runs with. Absent
   * where no command line made them (handler tests): the doctor then says it cannot run.
   */
  settings?: AgentSettings;
}

/** What kai-agent was started with: where it connects, as which host, and its local files. */
interface AgentSettings {
  server: string;
  token: string;
  policyFile?: string | undefined;
  dockerSocket?: string | undefined;
}

export type Handler<O extends Op> = (params: ParamsOf<O>, ctx: HandlerContext<O>) => Promise<ResultOf<O>>;

/** One handler per command of `shared/commands.ts`; a missing one is a compile error. */
export type Handlers = { [O in Op]: Handler<O> };
