import { z } from "zod";
import { helloFrame } from "../../shared/protocol";

/**
 * Per-socket state kept with `serializeAttachment`, so it survives hibernation: the
 * object can be evicted while the agent's socket stays open.
 */
export const socketAttachment = z.object({
  hostId: z.string(),
  hostName: z.string(),
  userId: z.string(),
  connectedAt: z.number(),
  hello: helloFrame.nullable(),
});
export type SocketAttachment = z.infer<typeof socketAttachment>;

export function readAttachment(socket: WebSocket): SocketAttachment | undefined {
  const parsed = socketAttachment.safeParse(socket.deserializeAttachment());
  return parsed.success ? parsed.data : undefined;
}
