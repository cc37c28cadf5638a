import type { AgentMessage } from "../../../shared/schemas/agent-sessions";

/** The most messages, and bytes of them, a session holds for `agentSession.sync` resends. */
const RING_MAX_MESSAGES = 2000;
const RING_MAX_BYTES = 4 * 1024 * 1024;

/**
 * A session's most recent messages, bounded by count and by bytes: what the edge may have
 * missed while the connection was down. Older messages drop off; `since` says when some
 * the edge asks for are gone.
 */
export class MessageRing {
  readonly #messages: { message: AgentMessage; bytes: number }[] = [];
  #bytes = 0;
  readonly #maxMessages: number;
  readonly #maxBytes: number;

  constructor(maxMessages = RING_MAX_MESSAGES, maxBytes = RING_MAX_BYTES) {
    this.#maxMessages = maxMessages;
    this.#maxBytes = maxBytes;
  }

  push(message: AgentMessage): void {
    const bytes = JSON.stringify(message).length;
    this.#messages.push({ message, bytes });
    this.#bytes += bytes;
    while (this.#messages.length > this.#maxMessages || (this.#bytes > this.#maxBytes && this.#messages.length > 1)) {
      this.#bytes -= this.#messages.shift()?.bytes ?? 0;
    }
  }

  /** The messages held after `lastSeq`, and the range of those after it that are gone. */
  since(lastSeq: number, newestSeq: number): { messages: AgentMessage[]; lost?: { from: number; to: number } } {
    const messages = this.#messages.filter((entry) => entry.message.seq > lastSeq).map((entry) => entry.message);
    const oldestHeld = messages[0]?.seq ?? newestSeq + 1;
    const lost = oldestHeld > lastSeq + 1 ? { from: lastSeq + 1, to: oldestHeld - 1 } : undefined;
    return lost ? { messages, lost } : { messages };
  }
}
