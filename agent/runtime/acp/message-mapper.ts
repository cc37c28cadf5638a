import { MAX_MESSAGE_FIELD_CHARS } from "../../../shared/protocol";
import type { AgentMessage, AgentSessionState } from "../../../shared/schemas/agent-sessions";

/** A message before the session numbers it (`seq`) and tags it with its turn (`run_id`). */
export type UnnumberedMessage = Omit<AgentMessage, "seq" | "run_id">;

/** What one `session/update` means for Kai: messages to send, and session state that changed. */
export interface MappedUpdate {
  messages: UnnumberedMessage[];
  state: Partial<Pick<AgentSessionState, "title" | "usage" | "mode">>;
}

interface ToolCallSeen {
  tool: string;
  /** Cut to MAX_MESSAGE_FIELD_CHARS when it is kept; `titleCut` says so. */
  title: string;
  /** Already bounded as the tool_use sends it (see boundInput): no tool call keeps more. */
  input: Record<string, unknown>;
  titleCut: boolean;
  inputCut: boolean;
  /** The tool_use went out (from an update with input, or from a permission request). */
  announced: boolean;
  finished: boolean;
}

/**
 * Tool calls remembered per turn (each holds at most ~2 × MAX_MESSAGE_FIELD_CHARS of title and
 * input); an agent that never finishes its calls cannot grow this, and a turn's end clears it.
 */
const MAX_TOOL_CALLS = 1000;

/**
 * Turns ACP `session/update` notifications into `AgentMessage`s, per the table in
 * AGENT-SESSIONS.md. It reads raw JSON (the notification fallback hands it over unparsed), so
 * every field is checked here, and an update kind it does not know maps to nothing rather
 * than breaking the session. Tool calls are coalesced: one `tool_use` per tool call id, once
 * its input is known, and one `tool_result` when it completes or fails.
 */
export class MessageMapper {
  readonly #tools = new Map<string, ToolCallSeen>();

  map(update: unknown): MappedUpdate {
    const none: MappedUpdate = { messages: [], state: {} };
    if (!isRecord(update) || typeof update.sessionUpdate !== "string") return none;
    switch (update.sessionUpdate) {
      case "agent_message_chunk":
        return chunk("text", update.content);
      case "agent_thought_chunk":
        return chunk("thinking", update.content);
      case "tool_call":
      case "tool_call_update":
        return { messages: this.#toolCall(update), state: {} };
      case "usage_update":
        return { messages: [], state: { usage: usageOf(update) } };
      case "session_info_update":
        return typeof update.title === "string" ? { messages: [], state: { title: update.title.slice(0, 512) } } : none;
      case "current_mode_update":
        return typeof update.currentModeId === "string"
          ? { messages: [], state: { mode: update.currentModeId.slice(0, 128) } }
          : none;
      default:
        // user_message_chunk (the user's own words, or history replayed), plan, commands,
        // config options and kinds newer than this code: nothing a Kai client reads.
        return none;
    }
  }

  /**
   * The `tool_use` asking for permission carries what is known of the call so far; it counts
   * as the call's announcement, so a later update adding input does not repeat it.
   */
  permissionToolUse(toolCall: unknown): UnnumberedMessage {
    const fields = isRecord(toolCall) ? toolCall : {};
    const id = typeof fields.toolCallId === "string" ? fields.toolCallId : "";
    const seen = this.#merge(id, fields);
    seen.announced = true;
    return toolUse(id, seen);
  }

  /** The turn ended: its tool calls that never finished are forgotten (their input with them). */
  endTurn(): void {
    this.#tools.clear();
  }

  /** How many tool calls are remembered (for tests of the bound). */
  get toolCalls(): number {
    return this.#tools.size;
  }

  #toolCall(update: Record<string, unknown>): UnnumberedMessage[] {
    if (typeof update.toolCallId !== "string") return [];
    const id = update.toolCallId;
    const seen = this.#merge(id, update);
    const messages: UnnumberedMessage[] = [];
    const status = update.status;
    const finishing = (status === "completed" || status === "failed") && !seen.finished;
    // Announce once the input is known, or at the latest when the call ends without any.
    if (!seen.announced && (Object.keys(seen.input).length > 0 || finishing)) {
      seen.announced = true;
      messages.push(toolUse(id, seen));
    }
    if (finishing) {
      seen.finished = true;
      const text = outputOf(update);
      const [cut, truncated] = truncate(text || (status === "failed" ? "the tool call failed" : ""));
      messages.push({
        type: "tool_result",
        tool: seen.tool,
        tool_call_id: id.slice(0, 256),
        ...(status === "failed" ? { error: cut } : { output: cut }),
        ...(truncated ? { truncated } : {}),
      });
      this.#tools.delete(id);
    }
    // Meta-only updates (and repeats) change nothing a client sees: they produce no message.
    return messages;
  }

  #merge(id: string, fields: Record<string, unknown>): ToolCallSeen {
    let seen = this.#tools.get(id);
    if (!seen) {
      if (this.#tools.size >= MAX_TOOL_CALLS) this.#tools.delete(this.#tools.keys().next().value ?? "");
      seen = {
        tool: "tool",
        title: "",
        input: {},
        titleCut: false,
        inputCut: false,
        announced: false,
        finished: false,
      };
      this.#tools.set(id, seen);
    }
    const name = [fields.name, fields.kind].find((value) => typeof value === "string" && value !== "");
    if (typeof name === "string") seen.tool = name.slice(0, 256);
    // Bounded as they arrive: a Write tool's input can hold a whole file, and nothing more is ever sent.
    if (typeof fields.title === "string") {
      [seen.title, seen.titleCut] = truncate(fields.title);
    }
    if (isRecord(fields.rawInput) && Object.keys(fields.rawInput).length > 0) {
      [seen.input, seen.inputCut] = boundInput(fields.rawInput);
    }
    return seen;
  }
}

function chunk(type: "text" | "thinking", content: unknown): MappedUpdate {
  const text = contentText(content);
  if (!text) return { messages: [], state: {} };
  const [cut, truncated] = truncate(text);
  return { messages: [{ type, content: cut, ...(truncated ? { truncated } : {}) }], state: {} };
}

function toolUse(id: string, seen: ToolCallSeen): UnnumberedMessage {
  return {
    type: "tool_use",
    tool: seen.tool,
    input: seen.input,
    content: seen.title,
    tool_call_id: id.slice(0, 256),
    ...(seen.titleCut || seen.inputCut ? { truncated: true } : {}),
  };
}

/**
 * A tool's input as is when its JSON fits MAX_MESSAGE_FIELD_CHARS; else the start of that JSON
 * under `truncated_json` (a Write tool's input can hold a whole file, and one event must fit
 * in one relay frame).
 */
function boundInput(input: Record<string, unknown>): [Record<string, unknown>, boolean] {
  const json = JSON.stringify(input);
  if (json.length <= MAX_MESSAGE_FIELD_CHARS) return [input, false];
  return [{ truncated_json: json.slice(0, MAX_MESSAGE_FIELD_CHARS) }, true];
}

/** A content block's text: text as is, a link or resource by its URI, media by its kind. */
function contentText(block: unknown): string {
  if (!isRecord(block)) return "";
  if (block.type === "text" && typeof block.text === "string") return block.text;
  if (block.type === "resource_link" && typeof block.uri === "string") return block.uri;
  if (block.type === "resource" && isRecord(block.resource)) {
    const { text, uri } = block.resource;
    return typeof text === "string" ? text : typeof uri === "string" ? uri : "";
  }
  if (block.type === "image" || block.type === "audio") return `[${block.type}]`;
  return "";
}

/** A finished tool call's output: its raw output, else its content blocks' text. */
function outputOf(update: Record<string, unknown>): string {
  const raw = update.rawOutput;
  if (typeof raw === "string") return raw;
  if (Array.isArray(update.content)) {
    const parts = update.content.map((item) => {
      if (!isRecord(item)) return "";
      if (item.type === "content") return contentText(item.content);
      if (item.type === "diff" && typeof item.path === "string") return `diff ${item.path}`;
      return "";
    });
    const text = parts.filter(Boolean).join("\n");
    if (text) return text;
  }
  return raw === undefined || raw === null ? "" : JSON.stringify(raw);
}

function usageOf(update: Record<string, unknown>): AgentSessionState["usage"] {
  const count = (value: unknown) =>
    typeof value === "number" && Number.isInteger(value) && value >= 0 ? value : undefined;
  const cost = isRecord(update.cost) ? update.cost : undefined;
  return {
    used: count(update.used),
    size: count(update.size),
    ...(cost && typeof cost.amount === "number" && typeof cost.currency === "string"
      ? { cost: { amount: cost.amount, currency: cost.currency.slice(0, 8) } }
      : {}),
  };
}

/** Cuts `text` to MAX_MESSAGE_FIELD_CHARS; the flag says it was cut. */
export function truncate(text: string): [string, boolean] {
  return text.length > MAX_MESSAGE_FIELD_CHARS ? [text.slice(0, MAX_MESSAGE_FIELD_CHARS), true] : [text, false];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
