import type { ResultOf } from "../../shared/command-replies";
import { COMMANDS, deadlineOf, type Op, type ParamsOf } from "../../shared/commands";
import { KaiError } from "../../shared/errors";
import type { Bindings } from "../env";
import type { Outcome } from "../host-relay/pending";
import { hostRelay } from "../host-relay/stub";

/**
 * Everything a relay needs, and nothing it has to find in a request context: the chosen
 * host, who acts on it, and the default wait. Only a host-bound route declaration
 * (edge/http/route-group.ts) makes one, as `c.var.agent`, so a route that never declared
 * how it selects a host has nothing to relay through.
 */
export interface HostAgent {
  env: Pick<Bindings, "HOST_RELAY">;
  hostId: string;
  userId: string;
  /** The credential streams opened through this agent are tagged with (see `credentialOf`). */
  credential: string | undefined;
  /** AGENT_TIMEOUT_MS. */
  timeoutMs: number;
}

export interface RelayOptions {
  /** The whole wait, instead of AGENT_TIMEOUT_MS plus the command's deadline. */
  timeoutMs?: number;
}

/**
 * Runs one command on the selected host's agent and returns its validated result, or
 * throws the agent's error with its code intact. The wait is AGENT_TIMEOUT_MS plus the
 * command's deadline (shared/commands.ts: a stop waits for the container's grace period,
 * the agent stops its own work by then); `timeoutMs` replaces the wait altogether, for
 * reads that must not hang on a frozen agent. Every call is audited by the host's Durable
 * Object with the request id that the agent also logs.
 */
export async function relay<O extends Op>(
  agent: HostAgent,
  op: O,
  params: ParamsOf<O>,
  options: RelayOptions = {},
): Promise<ResultOf<O>> {
  return (await relayCollecting(agent, op, params, options)).result;
}

/**
 * Like `relay`, for a streamed command run to completion without a live viewer: also
 * returns the chunks it sent (at most about 1 MiB of them; `truncated` says when more came).
 */
export async function relayCollecting<O extends Op>(
  agent: HostAgent,
  op: O,
  params: ParamsOf<O>,
  options: RelayOptions = {},
): Promise<{ result: ResultOf<O>; chunks: unknown[]; truncated: boolean }> {
  const command = COMMANDS[op];
  const checked = command.params.safeParse(params);
  if (!checked.success)
    throw new KaiError("VALIDATION_ERROR", `invalid parameters for ${op}: ${checked.error.message}`);

  const requestId = crypto.randomUUID();
  const stub = hostRelay(agent.env, agent.hostId);
  // The host's Durable Object audits the call (batched into D1); the id is the one the agent logs.
  const subject = { userId: agent.userId, hostId: agent.hostId };
  // Workers' RPC types cannot express `unknown` payloads, hence the cast of the outcome.
  const timeoutMs = options.timeoutMs ?? agent.timeoutMs + deadlineOf(op, checked.data as ParamsOf<O>);
  const outcome = succeeded((await stub.call(requestId, op, checked.data, timeoutMs, subject)) as Outcome);
  // The Durable Object validated the result against this op's schema before answering.
  return {
    result: outcome.result as ResultOf<O>,
    chunks: outcome.chunks ?? [],
    truncated: Boolean(outcome.chunksTruncated),
  };
}

/** An outcome that failed becomes the KaiError it describes, with its code intact. */
export function succeeded(outcome: Outcome): Extract<Outcome, { ok: true }> {
  if (outcome.ok) return outcome;
  const { code, message, details } = outcome.error;
  throw new KaiError(code, message, details ? { details } : {});
}

/**
 * Runs commands on one host: what code shared by the Worker (through `relay`) and the host's
 * relay itself (straight to its connection) takes, so it does not care which side it runs on.
 */
export type Ask = <O extends Op>(op: O, params: ParamsOf<O>) => Promise<ResultOf<O>>;

export const askThrough =
  (agent: HostAgent): Ask =>
  (op, params) =>
    relay(agent, op, params);
