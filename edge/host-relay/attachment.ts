import { z } from "zod";
import { helloFrame } from "../../shared/protocol";

/**
 * An agent socket's state, kept with `serializeAttachment`, so it survives hibernation: the
 * object can be evicted while the agent's socket stays open.
 */
const agentAttachment = z.object({
  hostId: z.string(),
  hostName: z.string(),
  userId: z.string(),
  connectedAt: z.number(),
  hello: helloFrame.nullable(),
  /** Its turn in the connect pace, held until the hello is recorded (or the socket ends without one). */
  lease: z.string().optional(),
});
export type AgentAttachment = z.infer<typeof agentAttachment>;

export function readAgent(socket: WebSocket): AgentAttachment | undefined {
  const parsed = agentAttachment.safeParse(socket.deserializeAttachment());
  return parsed.success ? parsed.data : undefined;
}

/** A client watching a streamed command over its own WebSocket (tagged "viewer" and with the request id). */
const viewerAttachment = z.object({
  kind: z.literal("viewer"),
  requestId: z.string(),
  op: z.string(),
  nextSeq: z.number().int(),
  /** The client asked for batched frames (`frames=batch`): a run of consecutive chunks per frame. */
  batched: z.boolean().optional(),
});
export type ViewerAttachment = z.infer<typeof viewerAttachment>;

export function readViewer(socket: WebSocket): ViewerAttachment | undefined {
  const parsed = viewerAttachment.safeParse(socket.deserializeAttachment());
  return parsed.success ? parsed.data : undefined;
}

/** Socket tags: agents and viewers are told apart by tag, so either survives hibernation. */
export const AGENT_TAG = "agent";
export const VIEWER_TAG = "viewer";

/**
 * Attachments read once per socket while the object is awake, instead of deserialized and
 * validated on every frame; after a hibernation the cache starts empty and reads again.
 */
export class AttachmentCache<T extends object> {
  readonly #known = new WeakMap<WebSocket, T>();

  constructor(private readonly read: (socket: WebSocket) => T | undefined) {}

  get(socket: WebSocket): T | undefined {
    let value = this.#known.get(socket);
    if (!value) {
      value = this.read(socket);
      if (value) this.#known.set(socket, value);
    }
    return value;
  }

  /** Stores `value` with the socket (it survives hibernation) and here. */
  set(socket: WebSocket, value: T): void {
    socket.serializeAttachment(value);
    this.#known.set(socket, value);
  }
}
