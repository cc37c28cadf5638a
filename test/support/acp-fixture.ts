import { randomUUID } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { expect } from "vitest";
import { agentSessionHandlers } from "../../agent/handlers/agent-sessions";
import type { AgentProfile } from "../../agent/runtime/acp/agent-profiles";
import { AgentSessions, type AgentSessionsOptions } from "../../agent/runtime/acp/agent-sessions";
import type { ResultOf } from "../../shared/command-replies";
import type { Op, ParamsOf } from "../../shared/commands";
import { AGENT_SESSION_TOPIC } from "../../shared/protocol";
import {
  type AgentMessage,
  type AgentSessionEvent,
  type AgentSessionState,
  agentSessionEvent,
} from "../../shared/schemas/agent-sessions";
import { fixtureProfile } from "./acp-fixture-profile";
import { until } from "./until";
import { call, type WorkspaceWorld, workspaceWorld } from "./workspace-handlers";

/**
 * Agent sessions with the fixture (or `options.profile`) as their profile, called through the real handlers (params
 * and results checked against the command table), every event checked against its schema.
 */
export { fixtureProfile };

export interface AgentSessionWorld extends WorkspaceWorld {
  sessions: AgentSessions;
  events: AgentSessionEvent[];
  /** The history folder the fixture keeps conversations in (for load and resume). */
  historyDir: string;
  send<O extends Op>(op: O, params: ParamsOf<O>, signal?: AbortSignal): Promise<ResultOf<O>>;
  messages(sessionId: string): AgentMessage[];
  states(sessionId: string): AgentSessionState[];
  /** Waits for the turn's last message (`done` or `error`) and returns it. */
  turnEnd(sessionId: string, runId: string, ms?: number): Promise<AgentMessage>;
  /** Starts a session with the profile's agent in the workspace; returns its id. */
  start(restore?: { acpSessionId: string; lastSeq: number }, sessionId?: string): Promise<string>;
  /** Sends a prompt; returns its run id. */
  prompt(sessionId: string, message: string): Promise<string>;
  detach(): void;
  attach(): void;
}

export async function agentSessionWorld(
  prefix: string,
  options: Omit<AgentSessionsOptions, "profiles"> & { env?: Record<string, string>; profile?: AgentProfile } = {},
): Promise<AgentSessionWorld> {
  const world = await workspaceWorld(prefix);
  const historyDir = path.join(world.tmp, "history");
  await fs.mkdir(historyDir);
  const { profile, env, ...limits } = options;
  const sessions = new AgentSessions({
    ...limits,
    // Another agent (a real adapter) in place of the fixture, same manager and handlers.
    profiles: [profile ?? fixtureProfile({ ACP_FIXTURE_HISTORY_DIR: historyDir, ...env })],
  });
  const events: AgentSessionEvent[] = [];
  let connection = new AbortController();
  const attach = () => {
    connection = new AbortController();
    sessions.attach((topic, data) => {
      expect(topic).toBe(AGENT_SESSION_TOPIC);
      events.push(agentSessionEvent.parse(data));
    }, connection.signal);
  };
  attach();
  const send = <O extends Op>(op: O, params: ParamsOf<O>, signal?: AbortSignal) =>
    call(agentSessionHandlers, op, params, world.ctx({ agentSessions: sessions, ...(signal ? { signal } : {}) }));
  const messages = (sessionId: string) =>
    events.flatMap((event) => {
      if (event.sessionId !== sessionId) return [];
      if (event.kind === "message") return [event.message];
      return event.kind === "messages" ? event.messages : [];
    });
  return {
    ...world,
    sessions,
    events,
    historyDir,
    send,
    messages,
    states: (sessionId) =>
      events.flatMap((event) => (event.kind === "state" && event.sessionId === sessionId ? [event.state] : [])),
    async turnEnd(sessionId, runId, ms = 30_000) {
      const last = () =>
        messages(sessionId).find((m) => m.run_id === runId && (m.type === "done" || m.type === "error"));
      await until(() => last() !== undefined, ms, `the end of turn ${runId}`);
      return last() as AgentMessage;
    },
    async start(restore, sessionId = randomUUID()) {
      await send("agentSession.start", { root: world.root, sessionId, ...(restore ? { restore } : {}) });
      return sessionId;
    },
    async prompt(sessionId, message) {
      const { runId } = await send("agentSession.prompt", { sessionId, runId: randomUUID(), message });
      return runId;
    },
    detach: () => connection.abort(),
    attach,
    async cleanup() {
      await sessions.stopAll();
      await world.cleanup();
    },
  };
}
