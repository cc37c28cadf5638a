import { z } from "zod";
import { MAX_MESSAGE_FIELD_CHARS, MAX_MESSAGES_PER_EVENT } from "../protocol";
import { agentProfileName } from "./agent-profiles";
import { agentPrompt, approvalOptionKind } from "./command-params";

/**
 * Agent sessions: a coding agent (Claude Code, Codex, Gemini, any ACP agent) run by kai-agent
 * in a workspace. The messages are the Workspace Runtime API's `AgentMessage`, with the
 * additive fields `seq`, `run_id`, `tool_call_id`, `approval` and `truncated`.
 */

/**
 * What a user reads at a glance. `disconnected`: the host went offline, the agent process may
 * still be running. `interrupted`: the process is gone and the next message resumes it.
 */
export const agentSessionStatus = z.enum([
  "starting",
  "running",
  "waiting_for_approval",
  "idle",
  "disconnected",
  "interrupted",
  "ended",
  "failed",
]);

export const approvalOption = z.object({
  id: z.string().min(1).max(256),
  name: z.string().max(256),
  kind: approvalOptionKind,
});

/**
 * How an approval ended. `allowed` / `rejected` by a person (or `rejected` on expiry, reason
 * `expired`); `cancelled` when the turn was cancelled or the agent withdrew its request.
 */
const approvalState = z.enum(["pending", "allowed", "rejected", "cancelled"]);

const approvalInfo = z.object({
  id: z.uuid(),
  state: approvalState,
  options: z.array(approvalOption).max(16),
  expires_at: z.iso.datetime(),
  /** Set once resolved: the option chosen (absent for `cancelled`). */
  option_id: z.string().max(256).optional(),
  /** Set once resolved: `answered`, `expired`, `turn_cancelled` or `withdrawn`. */
  reason: z.enum(["answered", "expired", "turn_cancelled", "withdrawn"]).optional(),
});

const agentMessageType = z.enum(["thinking", "tool_use", "tool_result", "text", "done", "error"]);

export const agentMessage = z.object({
  type: agentMessageType,
  content: z.string().max(MAX_MESSAGE_FIELD_CHARS).optional(),
  tool: z.string().max(256).optional(),
  input: z.record(z.string(), z.unknown()).optional(),
  output: z.string().max(MAX_MESSAGE_FIELD_CHARS).optional(),
  error: z.string().max(MAX_MESSAGE_FIELD_CHARS).optional(),
  /** The session's event number, from 1, gap-free: `?since=<seq>` resumes after it. */
  seq: z.number().int().min(1),
  /** The turn this message belongs to (`POST .../messages` answers it). */
  run_id: z.string().max(64).optional(),
  tool_call_id: z.string().max(256).optional(),
  /** On a `tool_use` that asks for permission, and again on the one that reports its resolution. */
  approval: approvalInfo.optional(),
  /** A field above was cut to MAX_MESSAGE_FIELD_CHARS. */
  truncated: z.boolean().optional(),
});

/** Token usage as the agent last reported it (ACP `usage_update`), kept on the session. */
export const agentUsage = z.object({
  used: z.number().int().min(0).optional(),
  size: z.number().int().min(0).optional(),
  cost: z.object({ amount: z.number(), currency: z.string().max(8) }).optional(),
});

/**
 * A session's state as kai-agent knows it, sent whenever it changes (never per message):
 * the edge writes the session row on these transitions only.
 */
export const agentSessionState = z.object({
  status: agentSessionStatus,
  /** The number of the newest message sent so far (0 before the first). */
  lastSeq: z.number().int().min(0),
  title: z.string().max(512).optional(),
  usage: agentUsage.optional(),
  /** The agent's current mode as it last reported it (ACP `current_mode_update`), e.g. `plan`. */
  mode: z.string().max(128).optional(),
  /** ACP's stop reason of the last turn (`end_turn`, `cancelled`, `refusal`, ...), or `error` when it failed. */
  stopReason: z.string().max(64).optional(),
  /**
   * Why the session is `failed` or `interrupted` (the exit code and the tail of stderr), or, on an
   * `idle` session, why its last turn failed (the agent's JSON-RPC error); cleared by the next turn.
   */
  error: z.string().max(4096).optional(),
  /** The agent's own session id, which `session/load` or `session/resume` takes to restore it. */
  acpSessionId: z.string().max(256).optional(),
});

export const agentSessionEvent = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("message"), sessionId: z.uuid(), message: agentMessage }),
  /** Consecutive messages of one session made within one turn of kai-agent's event loop. */
  z.object({
    kind: z.literal("messages"),
    sessionId: z.uuid(),
    messages: z.array(agentMessage).min(1).max(MAX_MESSAGES_PER_EVENT),
  }),
  z.object({ kind: z.literal("state"), sessionId: z.uuid(), state: agentSessionState }),
]);

export type AgentSessionStatus = z.infer<typeof agentSessionStatus>;
export type ApprovalOption = z.infer<typeof approvalOption>;
export type ApprovalOptionKind = z.infer<typeof approvalOptionKind>;
export type ApprovalInfo = z.infer<typeof approvalInfo>;
export type AgentMessage = z.infer<typeof agentMessage>;
export type AgentSessionState = z.infer<typeof agentSessionState>;
export type AgentSessionEvent = z.infer<typeof agentSessionEvent>;

/** A pending or settled approval as the API shows it (`GET /api/v1/approvals`, a session's details). */
export const approvalResource = z.object({
  id: z.uuid(),
  session_id: z.uuid(),
  host_id: z.string(),
  tool_call_id: z.string().nullable(),
  tool: z.string().nullable(),
  title: z.string().nullable(),
  options: z.array(approvalOption),
  state: approvalState,
  option_id: z.string().nullable(),
  reason: z.string().nullable(),
  created_at: z.iso.datetime(),
  expires_at: z.iso.datetime(),
  resolved_at: z.iso.datetime().nullable(),
});

/** An agent session as the API shows it. */
export const agentSessionResource = z.object({
  id: z.uuid(),
  workspace_id: z.uuid(),
  host_id: z.string(),
  /** Null only until the host's agent has started the session with its default profile. */
  profile: agentProfileName.nullable(),
  status: agentSessionStatus,
  title: z.string().nullable(),
  last_seq: z.number().int(),
  stop_reason: z.string().nullable(),
  error: z.string().nullable(),
  usage: agentUsage.nullable(),
  created_at: z.iso.datetime(),
  updated_at: z.iso.datetime(),
  ended_at: z.iso.datetime().nullable(),
});

/**
 * What a viewer may send on `WS /api/v1/ws/agent-sessions/{id}`, each the same as its REST
 * route: a message starts a turn, cancel stops it, answer settles an approval.
 */
export const agentSessionClientFrame = z.discriminatedUnion("type", [
  z.object({ type: z.literal("message"), content: agentPrompt }),
  z.object({ type: z.literal("cancel") }),
  z.object({
    type: z.literal("approval"),
    approval_id: z.uuid(),
    decision: z.enum(["allow", "reject"]),
  }),
]);

/**
 * A frame a session viewer gets without a `seq`: it is not one of the session's messages, so
 * it is not replayed from the log and does not move a client's `since`. Either an `error`
 * answering that viewer's own frame (with `code`), or the edge's news about an approval the
 * agent can no longer report itself: a `tool_use` whose `approval` ended `cancelled`, reason
 * `withdrawn`, because the agent process that asked is gone. Clients apply it by approval id,
 * as they do a numbered resolution.
 */
export const agentSessionNotice = agentMessage.omit({ seq: true }).extend({ code: z.string().optional() });
export type AgentSessionNotice = z.infer<typeof agentSessionNotice>;
