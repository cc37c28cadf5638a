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
  // The adapter's built-in mode is `auto`, where a classifier (one more model call) approves
  // the command without asking; `default` asks, which is the path Kai's approvals take.
  await fs.mkdir(path.join(home, ".claude"));
  await fs.writeFile(
    path.join(home, ".claude", "settings.json"),
    JSON.stringify({ permissions: { defaultMode: "default" } }),
  );
  world = await agentSessionWorld("claude", { profile: claudeAdapterProfile(api.url, home), turnTimeoutMs: 60_000 });
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
  console.log(JSON.stringify(plain(first), null, 1));
  expect(done).toMatchObject({ type: "done", content: "end_turn" });
  expect(first.map((m) => m.seq)).toEqual(first.map((_, i) => i + 1));
  const types = first.map((m) => m.type);
  expect(types).toContain("thinking");
  expect(types).toContain("tool_result");
  // Kai passes chunks on as they come (the fake splits each block in two): joined, they are the block.
  expect(joined(first, "thinking")).toBe(THINKING);
  expect(joined(first, "text")).toContain(TOOL_TEXT);
  expect(joined(first, "text")).toContain(FINAL_TEXT);
  await fs.access(path.join(world.root, "created-by-claude.txt"));
  console.log(JSON.stringify(api.requests.map((r) => [r.method, r.path, r.body?.model, isMainLoop(r.body)])));
});
