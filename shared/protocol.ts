import { z } from "zod";
import { wireErrorSchema } from "./errors";
import { agentProfileInfo } from "./schemas/agent-profiles";

/**
 * The wire protocol between the edge's HostRelay Durable Object and `kai-agent`: JSON
 * text frames, one zod union per direction, parsed with `safeParse` on receipt by both
 * sides. The plain text frames `ping`/`pong` are the keepalive, answered by the runtime's
 * auto-response so an idle host never wakes its Durable Object.
 */

/**
 * 2 added the `chunks` frame (several chunks of one stream in one frame). An agent sends it
 * only to an edge whose welcome says 2 or more, and the edge still accepts 1's single chunks.
 */
export const PROTOCOL_VERSION = 2;
/** The oldest agent protocol this edge still speaks. */
export const MIN_PROTOCOL_VERSION = 1;
/** The first protocol version whose edge understands `chunks` frames. */
export const CHUNK_BATCHES_SINCE = 2;

/** The largest frame either side sends or accepts (Workers' WebSocket message cap is 1 MiB). */
export const MAX_FRAME_BYTES = 1024 * 1024;

/**
 * The longest the edge holds an agent's dial for its turn in the connect pace before the
 * upgrade; the agent's handshake timeout is well beyond it (agent/connection/dial.ts).
 */
export const MAX_CONNECT_WAIT_MS = 10_000;

export const KEEPALIVE_PING = "ping";
export const KEEPALIVE_PONG = "pong";

/** WebSocket close codes Kai uses, in the 4000-4999 range reserved for applications. */
export const CLOSE_CODES = {
  /** A frame was not valid JSON or not a valid frame. */
  PROTOCOL_ERROR: 4000,
  /** The agent speaks a protocol version the edge no longer accepts: upgrade the agent. */
  VERSION_UNSUPPORTED: 4001,
  /** The host was deleted or its token revoked: the agent must not reconnect. */
  TOKEN_REVOKED: 4003,
  /** Another connection of the same host took over (e.g. the agent restarted elsewhere). */
  REPLACED: 4009,
  /** The agent sent something other than `hello` first, or nothing within 10 s of connecting. */
  HELLO_REQUIRED: 4010,
  /**
   * On a viewer's socket (a streamed command), not the agent's: the credential that opened
   * it was revoked or its session ended. An `error` frame with code UNAUTHORIZED precedes it.
   */
  CREDENTIAL_REVOKED: 4401,
} as const;

/** A request's id, in every frame about it: the edge makes one per call (crypto.randomUUID). */
export const requestId = z.uuid();

export const helloFrame = z.object({
  type: z.literal("hello"),
  // Any version parses, so an old agent gets VERSION_UNSUPPORTED rather than PROTOCOL_ERROR.
  protocolVersion: z.number().int().min(0),
  agentVersion: z.string().max(64),
  hostId: z.string().max(64),
  capabilities: z.array(z.string().max(64)).max(64),
  docker: z.object({ ok: z.boolean(), version: z.string().max(64).nullable() }),
  os: z.string().max(64),
  arch: z.string().max(32),
  hostname: z.string().max(255),
  /** The agent profiles this host's owner allows (agent sessions); absent from agents before them. */
  agentProfiles: z.array(agentProfileInfo).max(32).optional(),
});

const replyFrame = z.discriminatedUnion("ok", [
  z.object({ type: z.literal("res"), id: requestId, ok: z.literal(true), result: z.unknown() }),
  z.object({ type: z.literal("res"), id: requestId, ok: z.literal(false), error: wireErrorSchema }),
]);

const chunkFrame = z.object({
  type: z.literal("chunk"),
  id: requestId,
  seq: z.number().int().min(0),
  data: z.unknown(),
});

/**
 * Consecutive chunks of one stream, `seq` being the first one's: a stream that produces
 * lines faster than one frame each (a busy log) pays the per-frame cost of both sockets
 * and the Durable Object once per batch. The edge still hands viewers one chunk per frame.
 */
const chunksFrame = z.object({
  type: z.literal("chunks"),
  id: requestId,
  seq: z.number().int().min(0),
  data: z.array(z.unknown()).min(1),
});

const eventFrame = z.object({
  type: z.literal("event"),
  topic: z.string().max(128),
  seq: z.number().int().min(0),
  data: z.unknown(),
});

/** Topic of the event an agent sends when its Docker engine comes or goes. */
export const DOCKER_STATE_TOPIC = "host.docker";
export const dockerState = helloFrame.shape.docker;
/** Topic of container lifecycle events from the agent's Docker event stream (data: `containerEvent`). */
export const CONTAINER_EVENT_TOPIC = "docker.container";
/** The Docker actions a container event reports; the agent drops the others. */
export const CONTAINER_EVENT_ACTIONS = [
  "create",
  "start",
  "stop",
  "restart",
  "die",
  "destroy",
  "kill",
  "pause",
  "unpause",
  "oom",
  "health_status",
] as const;
/**
 * Topic of the compact stats snapshot an agent publishes every few seconds (data: `hostStatsData`,
 * shared/schemas/user-events.ts). Here with the other topics, so the agent needs no feed schemas.
 */
export const HOST_STATS_TOPIC = "host.stats";
/**
 * Topic of the events kai-agent sends for agent sessions (data: `agentSessionEvent`,
 * shared/schemas/agent-sessions.ts), with their bounds.
 */
export const AGENT_SESSION_TOPIC = "agent.session";
/** The most messages one `messages` event carries. */
export const MAX_MESSAGES_PER_EVENT = 256;
/** The longest text one message field carries; longer tool output is cut and flagged `truncated`. */
export const MAX_MESSAGE_FIELD_CHARS = 64 * 1024;

/** Everything an agent may send after connecting. */
export const agentFrame = z.discriminatedUnion("type", [helloFrame, replyFrame, chunkFrame, chunksFrame, eventFrame]);

const welcomeFrame = z.object({
  type: z.literal("welcome"),
  protocolVersion: z.number().int(),
  hostId: z.string(),
  hostName: z.string(),
});

const requestFrame = z.object({
  type: z.literal("req"),
  id: requestId,
  op: z.string().max(64),
  params: z.unknown(),
});

const cancelFrame = z.object({ type: z.literal("cancel"), id: requestId });

/**
 * Whether the owner's live feed has a viewer, so whether the host's stats snapshots are
 * wanted: `send: true` asks for one at once and then one every interval, `false` stops them.
 * Sent only to agents whose hello lists HOST_STATS_ON_DEMAND; older ones keep sending.
 */
const statsFrame = z.object({ type: z.literal("stats"), send: z.boolean() });
/** The hello capability of an agent that sends stats only when asked (statsFrame). */
export const HOST_STATS_ON_DEMAND = "host-stats-on-demand";

/** Everything the edge may send to an agent. */
export const edgeFrame = z.discriminatedUnion("type", [welcomeFrame, requestFrame, cancelFrame, statsFrame]);

export type HelloFrame = z.infer<typeof helloFrame>;
export type ReplyFrame = z.infer<typeof replyFrame>;
export type AgentFrame = z.infer<typeof agentFrame>;
export type EdgeFrame = z.infer<typeof edgeFrame>;
export type RequestFrame = z.infer<typeof requestFrame>;
export type ChunkFrame = z.infer<typeof chunkFrame>;
export type ChunksFrame = z.infer<typeof chunksFrame>;

/**
 * The text of one frame the edge sends to an agent. Every such frame goes through here, so
 * only frames of the protocol's union can be sent.
 */
export function encodeEdgeFrame(frame: EdgeFrame): string {
  return JSON.stringify(frame);
}

/** The text of one frame an agent sends to the edge. */
export function encodeAgentFrame(frame: AgentFrame): string {
  return JSON.stringify(frame);
}

/**
 * Parses one text frame from the other side. Oversized frames, invalid JSON and unknown
 * shapes all come back as `undefined`; callers close the socket with PROTOCOL_ERROR.
 */
export function parseFrame<T>(schema: z.ZodType<T>, text: string): T | undefined {
  if (text.length > MAX_FRAME_BYTES) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const result = schema.safeParse(value);
  return result.success ? result.data : undefined;
}
