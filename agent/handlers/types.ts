import type Docker from "dockerode";
import type { Op, ParamsOf, ResultOf } from "../../shared/commands";
import type { Policy } from "../policy";
import type { LiveStats } from "../runtime/docker/live-stats";

/** What a handler may use. Handlers never see the socket: they take params and return a result. */
export interface HandlerContext {
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
  /** Sends one chunk of a streamed command (batched with its neighbours into one frame; validated by the edge against the command's chunk schema). */
  emit: (data: unknown) => void;
}

export type Handler<O extends Op> = (params: ParamsOf<O>, ctx: HandlerContext) => Promise<ResultOf<O>>;

/** One handler per command of `shared/commands.ts`; a missing one is a compile error. */
export type Handlers = { [O in Op]: Handler<O> };
