import { signal } from "@preact/signals";
import type { AgentMessage, ApprovalInfo } from "../../../../shared/schemas/agent-sessions";
import { ApiError } from "../../api/api-error";
import { LiveSocket } from "../../api/live-socket";
import { recordOutcome } from "./approval-outcomes";

/** How long frames are gathered before a re-render: a replay of thousands renders a few times, not per frame. */
const FLUSH_MS = 30;

/**
 * One session's stream as this page holds it: every numbered message once, in `seq` order,
 * kept in memory. The socket asks for `?since=<last seq held>` on each (re)connect, so a
 * network loss or a phone waking up resumes exactly where it stopped; a repeated or older
 * `seq` is dropped. A new page (a reload) starts from 0: the Durable Object replays the
 * session's kept messages in one go, which is cheaper and surer than caching up to 8 MiB of
 * them in the browser's storage.
 *
 * Unnumbered frames are not part of the session's messages: an `error` with a `code` answers
 * this viewer's own frame, and a `tool_use` whose approval ended `withdrawn` is the edge's
 * notice (repeated to each viewer on connect) applied by approval id.
 */
export class SessionStream {
  readonly messages = signal<AgentMessage[]>([]);
  /** Approvals settled by an unnumbered notice, by id. */
  readonly notices = signal<Record<string, ApprovalInfo>>({});
  /** The newest refusal of a frame this viewer sent. */
  readonly refusal = signal<ApiError | undefined>(undefined);
  readonly socket: LiveSocket;
  #lastSeq = 0;
  #buffer: AgentMessage[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #onApprovalNews: () => void;

  /** `onApprovalNews`: an approval was asked for or settled (the inbox count should refresh). */
  constructor(sessionId: string, onApprovalNews: () => void) {
    this.#onApprovalNews = onApprovalNews;
    this.socket = new LiveSocket({
      url: () => `/api/v1/ws/agent-sessions/${encodeURIComponent(sessionId)}?since=${this.#lastSeq}`,
      onFrame: (text) => this.#receive(text),
    });
  }

  /** The newest seq held: what the next reconnect resumes after. */
  get lastSeq(): number {
    return this.#lastSeq;
  }

  close(): void {
    clearTimeout(this.#timer);
    this.socket.close();
  }

  #receive(text: string): void {
    let frame: unknown;
    try {
      frame = JSON.parse(text);
    } catch {
      return;
    }
    if (typeof frame !== "object" || frame === null || typeof (frame as { type?: unknown }).type !== "string") return;
    const message = frame as AgentMessage & { code?: unknown };
    if (typeof message.seq !== "number") {
      this.#notice(message);
      return;
    }
    if (message.seq <= this.#lastSeq) return;
    this.#lastSeq = message.seq;
    if (message.approval) {
      recordOutcome(message.approval.id, message.approval);
      this.#onApprovalNews();
    }
    this.#buffer.push(message);
    this.#timer ??= setTimeout(() => this.#flush(), FLUSH_MS);
  }

  #flush(): void {
    this.#timer = undefined;
    this.messages.value = [...this.messages.value, ...this.#buffer];
    this.#buffer = [];
  }

  #notice(notice: Omit<AgentMessage, "seq"> & { code?: unknown }): void {
    if (notice.type === "error") {
      const code = typeof notice.code === "string" ? notice.code : "INTERNAL_ERROR";
      this.refusal.value = new ApiError(code as ApiError["code"], notice.error ?? "refused", 0, null);
      return;
    }
    if (notice.approval) {
      this.notices.value = { ...this.notices.value, [notice.approval.id]: notice.approval };
      recordOutcome(notice.approval.id, notice.approval);
      this.#onApprovalNews();
    }
  }
}
