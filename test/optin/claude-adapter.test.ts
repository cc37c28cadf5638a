import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, it, onTestFailed } from "vitest";
import type { AgentMessage } from "../../shared/schemas/agent-sessions";
import { type AgentSessionWorld, agentSessionWorld } from "../support/acp-fixture";
import { claudeAdapterProfile, ensureClaudeAdapter } from "../support/claude-adapter";
import { type FakeAnthropic, fakeAnthropic, type MessagesRequest } from "../support/fake-anthropic";
import { until } from "../support/until";

/**
 * Opt-in (`npm run test:claude`): the real Claude Code ACP adapter, run by kai-agent's own
 * AgentSessions manager behind its handlers, with a fake Messages API on loopback in place of
 * the model. It proves what the fixture agent cannot: that Kai's ACP client, approvals and
 * restore work with the adapter people will actually run.
 */

const FIRST_PROMPT = "Create the marker file in this workspace.";
const SECOND_PROMPT = "What did you do in the previous turn?";
const COMMAND = "touch created-by-claude.txt";
const THINKING = "The user wants a file; touch creates it.";
const TOOL_TEXT = "I will create the file with touch.";
const FINAL_TEXT = "Done: created-by-claude.txt exists now.";
const RECALL_TEXT = "In the previous turn I created created-by-claude.txt.";

let world: AgentSessionWorld;
let api: FakeAnthropic;
/** HOME and Claude's config dir for the adapter: where it keeps the sessions a resume reads. */
let home: string | undefined;

/** Every text a request's messages hold: plain strings, text blocks, tool_use inputs and tool_results. */
function textsOf(request: MessagesRequest | undefined): string {
  return JSON.stringify(request?.messages ?? []);
}

function lastUserHasToolResult(request: MessagesRequest): boolean {
  const last = request.messages?.at(-1);
  return Array.isArray(last?.content) && last.content.some((block) => block?.type === "tool_result");
}

/** The main loop's requests carry the Bash tool; side requests (titles, summaries) get a short text. */
function isMainLoop(request: MessagesRequest | undefined): boolean {
  return request?.tools?.some((tool) => tool.name === "Bash") ?? false;
}

beforeAll(async () => {
  const entry = await ensureClaudeAdapter();
  api = await fakeAnthropic((request) => {
    if (!isMainLoop(request)) return { text: "Kai test" };
    if (lastUserHasToolResult(request)) return { text: FINAL_TEXT };
    if (textsOf(request).includes(SECOND_PROMPT)) return { text: RECALL_TEXT };
    return { thinking: THINKING, text: TOOL_TEXT, toolUse: { name: "Bash", input: { command: COMMAND } } };
  });
  home = await fs.mkdtemp(path.join(os.tmpdir(), "kai-claude-home-"));
  // The adapter's built-in mode is `auto`, in which this Bash call ran without any permission
  // request (seen here); `default` asks, which is the path Kai's approvals take.
  await fs.mkdir(path.join(home, ".claude"));
  await fs.writeFile(
    path.join(home, ".claude", "settings.json"),
    JSON.stringify({ permissions: { defaultMode: "default" } }),
  );
  world = await agentSessionWorld("claude", {
    profile: claudeAdapterProfile(entry, api.url, home),
    turnTimeoutMs: 60_000,
  });
});

afterAll(async () => {
  await world?.cleanup();
  await api?.close();
  if (home) await fs.rm(home, { recursive: true, force: true });
});

function joined(messages: AgentMessage[], type: "text" | "thinking"): string {
  return messages
    .filter((m) => m.type === type)
    .map((m) => m.content)
    .join("");
}

function plain(messages: AgentMessage[]) {
  return messages.map(({ type, tool, content, approval }) => ({
    type,
    ...(tool ? { tool } : {}),
    ...(content !== undefined ? { content } : {}),
    ...(approval ? { approval: approval.state } : {}),
  }));
}

it("runs a turn with thinking, an approved Bash call that really runs, then restores in a new process", async () => {
  const started = Date.now();
  const sessionId = await world.start();
  // A real agent fails in ways a fixture does not: show what Kai and the fake API saw.
  onTestFailed(() => {
    console.log("messages:", JSON.stringify(plain(world.messages(sessionId)), null, 1));
    console.log("states:", JSON.stringify(world.states(sessionId)));
    console.log("requests:", JSON.stringify(api.requests, null, 1).slice(0, 20_000));
  });
  const runId = await world.prompt(sessionId, FIRST_PROMPT);
  await until(
    () => world.messages(sessionId).some((m) => m.approval?.state === "pending"),
    60_000,
    "the Bash permission request",
  );
  const asked = world.messages(sessionId).find((m) => m.approval?.state === "pending");
  expect(asked).toMatchObject({ type: "tool_use", input: { command: COMMAND } });
  expect(asked?.approval?.options.map((o) => o.kind)).toContain("allow_once");
  const answer = await world.send("agentSession.answer", {
    sessionId,
    approvalId: asked?.approval?.id ?? "",
    kind: "allow_once",
  });
  expect(answer.state).toBe("allowed");
  const done = await world.turnEnd(sessionId, runId, 60_000);
  console.log(`first turn: ${Date.now() - started} ms`);
  const first = world.messages(sessionId);
  expect(done).toMatchObject({ type: "done", content: "end_turn" });
  expect(first.map((m) => m.seq)).toEqual(first.map((_, i) => i + 1));
  // Runs of one type collapsed (chunks): the turn's shape, whatever the chunking.
  const shape = first.map((m) => m.type).filter((type, i, all) => type !== all[i - 1]);
  expect(shape).toEqual(["thinking", "text", "tool_use", "tool_result", "text", "done"]);
  const approvals = first.flatMap((m) => (m.approval ? [m.approval.state] : []));
  expect(approvals).toEqual(["pending", "allowed"]);
  expect(first.find((m) => m.type === "tool_result")).toMatchObject({
    tool: "Bash",
    tool_call_id: asked?.tool_call_id,
  });
  // Kai passes chunks on as they come (the fake splits each block in two): joined, they are the block.
  expect(joined(first, "thinking")).toBe(THINKING);
  expect(joined(first, "text")).toContain(TOOL_TEXT);
  expect(joined(first, "text")).toContain(FINAL_TEXT);
  // The command really ran, in the workspace, as the Bash tool of the real Claude Code.
  await fs.access(path.join(world.root, "created-by-claude.txt"));

  // The host loses the agent: the adapter and the claude process it runs (its group) are killed.
  const pid = world.sessions.pidOf(sessionId) ?? 0;
  const { acpSessionId, lastSeq } = world.states(sessionId).at(-1) ?? { lastSeq: 0 };
  process.kill(-pid, "SIGKILL");
  await until(() => world.states(sessionId).at(-1)?.status === "interrupted", 10_000, "interrupted");
  expect(acpSessionId).toBeTruthy();

  const restarted = Date.now();
  await world.start({ acpSessionId: acpSessionId ?? "", lastSeq }, sessionId);
  expect(world.sessions.pidOf(sessionId)).not.toBe(pid);
  const seen = api.requests.length;
  const secondRun = await world.prompt(sessionId, SECOND_PROMPT);
  const secondDone = await world.turnEnd(sessionId, secondRun, 60_000);
  console.log(`restore and second turn: ${Date.now() - restarted} ms`);
  expect(secondDone).toMatchObject({ type: "done", content: "end_turn" });
  const second = world.messages(sessionId).slice(first.length);
  // Numbered on from the restored lastSeq; a resume re-sends no history as new messages.
  expect(second.map((m) => m.seq)).toEqual(second.map((_, i) => lastSeq + 1 + i));
  expect(second.every((m) => m.run_id === secondRun)).toBe(true);
  expect(joined(second, "text")).toBe(RECALL_TEXT);
  // The new process sent the model the earlier conversation: prompt, tool call, its result.
  const asking = api.requests.slice(seen).filter((r) => isMainLoop(r.body) && textsOf(r.body).includes(SECOND_PROMPT));
  expect(asking).toHaveLength(1);
  const history = textsOf(asking[0]?.body);
  expect(history).toContain(FIRST_PROMPT);
  expect(history).toContain(COMMAND);
  expect(history).toContain("tool_result");
  expect(history).toContain(FINAL_TEXT);
});
