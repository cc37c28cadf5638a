import { describe, expect, it } from "vitest";
import { MAX_MESSAGE_FIELD_CHARS } from "../../../shared/protocol";
import { MessageMapper } from "./message-mapper";

const text = (value: string) => ({ type: "text", text: value });

describe("MessageMapper", () => {
  it("maps thought and message chunks; the user's own chunks and plans map to nothing", () => {
    const mapper = new MessageMapper();
    expect(mapper.map({ sessionUpdate: "agent_thought_chunk", content: text("hmm") }).messages).toEqual([
      { type: "thinking", content: "hmm" },
    ]);
    expect(mapper.map({ sessionUpdate: "agent_message_chunk", content: text("hi") }).messages).toEqual([
      { type: "text", content: "hi" },
    ]);
    expect(mapper.map({ sessionUpdate: "user_message_chunk", content: text("me") }).messages).toEqual([]);
    expect(mapper.map({ sessionUpdate: "plan", entries: [] }).messages).toEqual([]);
  });

  it("coalesces a tool call: empty input, then input, then meta-only updates give one tool_use", () => {
    const mapper = new MessageMapper();
    const call = { toolCallId: "c1", title: "Run ls", kind: "execute" };
    expect(mapper.map({ sessionUpdate: "tool_call", ...call, rawInput: {} }).messages).toEqual([]);
    expect(
      mapper.map({ sessionUpdate: "tool_call_update", toolCallId: "c1", rawInput: { cmd: "ls" } }).messages,
    ).toEqual([{ type: "tool_use", tool: "execute", input: { cmd: "ls" }, content: "Run ls", tool_call_id: "c1" }]);
    expect(mapper.map({ sessionUpdate: "tool_call_update", toolCallId: "c1", _meta: { x: 1 } }).messages).toEqual([]);
    expect(mapper.map({ sessionUpdate: "tool_call_update", toolCallId: "c1", status: "in_progress" }).messages).toEqual(
      [],
    );
    const done = mapper.map({
      sessionUpdate: "tool_call_update",
      toolCallId: "c1",
      status: "completed",
      content: [{ type: "content", content: text("a\nb") }],
    });
    expect(done.messages).toEqual([{ type: "tool_result", tool: "execute", output: "a\nb", tool_call_id: "c1" }]);
  });

  it("announces a call that ends without input before its result, and reports a failure as error", () => {
    const mapper = new MessageMapper();
    mapper.map({ sessionUpdate: "tool_call", toolCallId: "c2", title: "Fetch", kind: "fetch" });
    const failed = mapper.map({
      sessionUpdate: "tool_call_update",
      toolCallId: "c2",
      status: "failed",
      rawOutput: 404,
    });
    expect(failed.messages).toEqual([
      { type: "tool_use", tool: "fetch", input: {}, content: "Fetch", tool_call_id: "c2" },
      { type: "tool_result", tool: "fetch", error: "404", tool_call_id: "c2" },
    ]);
  });

  it("cuts long fields and flags them", () => {
    const mapper = new MessageMapper();
    const long = "y".repeat(MAX_MESSAGE_FIELD_CHARS + 10);
    const [message] = mapper.map({ sessionUpdate: "agent_message_chunk", content: text(long) }).messages;
    expect(message?.content?.length).toBe(MAX_MESSAGE_FIELD_CHARS);
    expect(message?.truncated).toBe(true);
    const input = { content: long };
    const [use] = mapper.map({ sessionUpdate: "tool_call", toolCallId: "w", title: "Write", rawInput: input }).messages;
    expect(use?.truncated).toBe(true);
    expect(use?.input).toEqual({ truncated_json: JSON.stringify(input).slice(0, MAX_MESSAGE_FIELD_CHARS) });
  });

  it("keeps only as much tool input as is ever sent, and forgets unfinished calls at the end of the turn", () => {
    const mapper = new MessageMapper();
    const huge = { content: "z".repeat(4 * MAX_MESSAGE_FIELD_CHARS) };
    mapper.map({ sessionUpdate: "tool_call", toolCallId: "big", title: "Write", kind: "edit", rawInput: {} });
    expect(mapper.permissionToolUse({ toolCallId: "big", rawInput: huge })).toMatchObject({
      input: { truncated_json: JSON.stringify(huge).slice(0, MAX_MESSAGE_FIELD_CHARS) },
      truncated: true,
    });
    // A later, smaller input replaces the cut one, and is not flagged.
    mapper.map({ sessionUpdate: "tool_call", toolCallId: "small", title: "Read", kind: "read", rawInput: {} });
    const [use] = mapper.map({
      sessionUpdate: "tool_call_update",
      toolCallId: "small",
      rawInput: { path: "a" },
    }).messages;
    expect(use).toEqual({
      type: "tool_use",
      tool: "read",
      input: { path: "a" },
      content: "Read",
      tool_call_id: "small",
    });
    expect(mapper.toolCalls).toBe(2);
    mapper.endTurn();
    expect(mapper.toolCalls).toBe(0);
    // A call the agent finishes after the turn ended is still reported, as an unknown tool.
    const late = mapper.map({
      sessionUpdate: "tool_call_update",
      toolCallId: "big",
      status: "completed",
      rawOutput: "ok",
    });
    expect(late.messages.at(-1)).toMatchObject({ type: "tool_result", output: "ok", tool_call_id: "big" });
  });

  it("keeps usage, title and mode as state, and ignores kinds and shapes it does not know", () => {
    const mapper = new MessageMapper();
    expect(mapper.map({ sessionUpdate: "usage_update", used: 5, size: 10 }).state).toEqual({
      usage: { used: 5, size: 10 },
    });
    expect(mapper.map({ sessionUpdate: "session_info_update", title: "T" }).state).toEqual({ title: "T" });
    expect(mapper.map({ sessionUpdate: "current_mode_update", currentModeId: "plan" }).state).toEqual({ mode: "plan" });
    for (const odd of [null, 3, [], {}, { sessionUpdate: "hologram" }, { sessionUpdate: "tool_call" }]) {
      expect(mapper.map(odd)).toEqual({ messages: [], state: {} });
    }
  });
});
