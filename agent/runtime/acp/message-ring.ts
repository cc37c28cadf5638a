import type { AgentMessage } from "../../../shared/schemas/agent-sessions";

/** The most messages, and characters of their JSON, a session holds for `agentSession.sync` resends. */
const RING_MAX_MESSAGES = 2000;
const RING_MAX_CHARS = 4 * 1024 * 1024;

/** A message and the length of its JSON, measured once when it was made. */
export interface SizedMessage {
  message: AgentMessage;
  chars: number;
}

/**
 * A session's most recent messages, bounded by count and by bytes: what the edge may have
 * missed while the connection was down. Older messages drop off; `since` says when some
 * the edge asks for are gone.
 */
export class MessageRing {
  readonly #messages: SizedMessage[] = [];
  #chars = 0;
  readonly #maxMessages: number;
  readonly #maxChars: number;

  constructor(maxMessages = RING_MAX_MESSAGES, maxChars = RING_MAX_CHARS) {
    this.#maxMessages = maxMessages;
    this.#maxChars = maxChars;
  }

  push(entry: SizedMessage): void {
    this.#messages.push(entry);
    this.#chars += entry.chars;
    while (this.#messages.length > this.#maxMessages || (this.#chars > this.#maxChars && this.#messages.length > 1)) {
      this.#chars -= this.#messages.shift()?.chars ?? 0;
    }
  }

  /** The messages held after `lastSeq`, and the range of those after it that are gone. */
  since(lastSeq: number, newestSeq: number): { messages: SizedMessage[]; lost?: { from: number; to: number } } {
    const messages = this.#messages.filter((entry) => entry.message.seq > lastSeq);
    const oldestHeld = messages[0]?.message.seq ?? newestSeq + 1;
    const lost = oldestHeld > lastSeq + 1 ? { from: lastSeq + 1, to: oldestHeld - 1 } : undefined;
    return lost ? { messages, lost } : { messages };
  }
}
