import type { Context } from "hono";
import { COMMANDS, type ParamsOf, type StreamOp } from "../../shared/commands";
import { KaiError, wireErrorSchema } from "../../shared/errors";
import {
  HOST_ID_HEADER,
  HOST_OWNER_HEADER,
  VIEWER_CREDENTIAL_HEADER,
  VIEWER_FRAMES_HEADER,
  VIEWER_OP_HEADER,
  VIEWER_PARAMS_HEADER,
  VIEWER_REQUEST_HEADER,
} from "../host-relay/host-relay";
import { hostRelay } from "../host-relay/stub";
import { upgradeRequest } from "../host-relay/upgrade";
import type { HostAgent } from "./relay";

export interface StreamOptions {
  /** `batch`: `chunks` frames, a run of consecutive chunks each; `line` (the default): one `chunk` frame per chunk. */
  frames?: "line" | "batch";
}

/** Whether the request asks to become a WebSocket. */
export function wantsWebSocket(c: Context): boolean {
  return c.req.header("Upgrade")?.toLowerCase() === "websocket";
}

/**
 * Opens a streamed command (a log follow, a script's output, workspace events) for a
 * client over a WebSocket held by the host's Durable Object. A WebSocket rather than
 * server-sent events because the Durable Object sees a viewer's socket close and stops
 * the agent's stream at once; a response body's cancellation does not reliably reach it,
 * which would leave the agent streaming for nobody. Refusals before the stream starts
 * (host offline, invalid params) are ordinary HTTP errors. The socket is tagged with the
 * credential that opened it: revoking that credential closes the stream.
 */
export async function openStream<O extends StreamOp>(
  agent: HostAgent,
  c: Context,
  op: O,
  params: ParamsOf<O>,
  options: StreamOptions = {},
): Promise<Response> {
  if (!wantsWebSocket(c)) {
    throw new KaiError(
      "BAD_REQUEST",
      "this stream needs a WebSocket: connect with Upgrade: websocket (e.g. websocat, wscat or a browser WebSocket)",
    );
  }
  const checked = COMMANDS[op].params.safeParse(params);
  if (!checked.success) throw new KaiError("VALIDATION_ERROR", `invalid parameters: ${checked.error.message}`);
  const stub = hostRelay(agent.env, agent.hostId);
  const credential = agent.credential;
  // The Durable Object audits the opening, as it does every relayed command.
  const response = await stub.fetch(
    upgradeRequest(c.req.raw, {
      [VIEWER_OP_HEADER]: op,
      [VIEWER_PARAMS_HEADER]: JSON.stringify(checked.data),
      [VIEWER_REQUEST_HEADER]: crypto.randomUUID(),
      [HOST_ID_HEADER]: agent.hostId,
      [HOST_OWNER_HEADER]: agent.userId,
      ...(credential ? { [VIEWER_CREDENTIAL_HEADER]: credential } : {}),
      ...(options.frames === "batch" ? { [VIEWER_FRAMES_HEADER]: "batch" } : {}),
    }),
  );
  if (response.status === 101) return response;
  const refusal = wireErrorSchema.safeParse(await response.json().catch(() => null));
  const error = refusal.success
    ? refusal.data
    : { code: "INTERNAL_ERROR" as const, message: "the stream could not start" };
  throw new KaiError(error.code, error.message);
}
