import type { AgentMessage, ApprovalInfo } from "../../../../shared/schemas/agent-sessions";

/** A stretch of the agent's prose or reasoning: consecutive chunks of one turn joined. */
interface ProseItem {
  kind: "text" | "thinking";
  key: string;
  runId?: string;
  content: string;
}

/** One tool call: every `tool_use` and `tool_result` with its `tool_call_id` merged, newest field wins. */
export interface ToolItem {
  kind: "tool";
  key: string;
  runId?: string;
  toolCallId?: string;
  tool?: string;
  title?: string;
  input?: Record<string, unknown>;
  output?: string;
  error?: string;
  truncated: boolean;
  finished: boolean;
  approval?: ApprovalInfo;
}

interface EndItem {
  kind: "done" | "error";
  key: string;
  runId?: string;
  content?: string;
}

export type TranscriptItem = ProseItem | ToolItem | EndItem;

/**
 * What the page shows for a session's messages (in seq order) and the approvals settled by
 * notices. A resolution always beats a pending ask of the same approval, whatever came last.
 */
export function toTranscript(messages: AgentMessage[], notices: Record<string, ApprovalInfo>): TranscriptItem[] {
  const items: TranscriptItem[] = [];
  const tools = new Map<string, ToolItem>();
  for (const message of messages) {
    const key = `m${message.seq}`;
    const last = items.at(-1);
    if (message.type === "text" || message.type === "thinking") {
      if (last?.kind === message.type && last.runId === message.run_id) last.content += message.content ?? "";
      else items.push({ kind: message.type, key, runId: message.run_id, content: message.content ?? "" });
      continue;
    }
    if (message.type === "done" || message.type === "error") {
      items.push({ kind: message.type, key, runId: message.run_id, content: message.content ?? message.error });
      continue;
    }
    // Agents may reuse a tool call id in a later turn: a card belongs to one turn.
    const id = `${message.run_id ?? ""}/${message.tool_call_id ?? message.approval?.id ?? key}`;
    let tool = tools.get(id);
    if (!tool) {
      tool = {
        kind: "tool",
        key,
        runId: message.run_id,
        toolCallId: message.tool_call_id,
        truncated: false,
        finished: false,
      };
      tools.set(id, tool);
      items.push(tool);
    }
    mergeTool(tool, message);
  }
  for (const tool of tools.values()) {
    const settled = tool.approval && notices[tool.approval.id];
    if (settled) tool.approval = settled;
  }
  return items;
}

function mergeTool(tool: ToolItem, message: AgentMessage): void {
  if (message.tool) tool.tool = message.tool;
  if (message.type === "tool_use" && message.content) tool.title = message.content;
  if (message.input && Object.keys(message.input).length > 0) tool.input = message.input;
  if (message.output !== undefined) tool.output = message.output;
  if (message.error !== undefined) tool.error = message.error;
  if (message.truncated) tool.truncated = true;
  if (message.type === "tool_result") tool.finished = true;
  const known = tool.approval;
  // A later ask (a new id) replaces the card's approval; the same one only moves on from pending.
  if (message.approval && (!known || known.id !== message.approval.id || known.state === "pending")) {
    tool.approval = message.approval;
  }
}

/** The turn still running according to the stream: the newest message's run, unless it ended. */
export function openRun(messages: AgentMessage[]): string | undefined {
  const last = messages.at(-1);
  if (!last?.run_id || last.type === "done" || last.type === "error") return undefined;
  return last.run_id;
}
