import type { ResultOf } from "../../../shared/command-replies";
import { AGENT_STOP_GRACE_MS, type ParamsOf } from "../../../shared/commands";
import { KaiError } from "../../../shared/errors";
import { AGENT_SESSION_TOPIC, MAX_FRAME_BYTES, MAX_MESSAGES_PER_EVENT } from "../../../shared/protocol";
import type { AgentMessage, AgentSessionEvent } from "../../../shared/schemas/agent-sessions";
import { TurnBatcher } from "../../turn-batcher";
import { lazy } from "../lazy";
import { type AgentProfile, findAgentProfile } from "./agent-profiles";
import type { AgentSession, SessionLimits } from "./agent-session";
import { APPROVAL_TIMEOUT_MS } from "./approvals";

/** The session code and the ACP SDK, loaded by the first start. */
const loadAgentSession = lazy(() => import("./agent-session"));

/**
 * At most this many agent processes per host. Each is a full coding agent (Claude Code alone
 * takes ~130 MB and its own model traffic); a fifth start is CONFLICT, not RATE_LIMITED:
 * waiting does not help, closing a session does.
 */
const MAX_LIVE_SESSIONS = 4;
/** Ended or interrupted sessions kept for `sync` (their last messages and state). */
const MAX_GONE_SESSIONS = 64;
const TURN_TIMEOUT_MS = 30 * 60_000;
/** A batch of messages goes out before it would pass this size, leaving room for the frame's own fields. */
const MAX_BATCH_CHARS = MAX_FRAME_BYTES / 2;

export interface AgentSessionsOptions extends Partial<SessionLimits> {
  profiles: AgentProfile[];
  /** The policy file, named when a profile is not found. */
  policyFile?: string;
  maxLiveSessions?: number;
}

type Publish = (topic: string, data: unknown) => void;

/**
 * The agent sessions of this kai-agent, by Kai session id. Events go to the edge through the
 * sink `attach` gives while connected; offline, messages are only kept in each session's ring,
 * and the edge asks for them again with `agentSession.sync` after reconnecting.
 */
export class AgentSessions {
  readonly #sessions = new Map<string, AgentSession>();
  readonly #profiles: AgentProfile[];
  readonly #policyFile: string | undefined;
  readonly #limits: SessionLimits;
  readonly #maxLive: number;
  #publish: Publish | undefined;
  /** Messages of one session gathered within this turn of the event loop (see `#send`). */
  readonly #batch = new TurnBatcher<AgentMessage>((messages) => this.#publishBatch(messages), {
    maxItems: MAX_MESSAGES_PER_EVENT,
    maxChars: MAX_BATCH_CHARS,
  });
  /** The session whose messages `#batch` holds: one event carries one session's messages. */
  #batchSession = "";

  constructor(options: AgentSessionsOptions) {
    this.#profiles = options.profiles;
    this.#policyFile = options.policyFile;
    this.#maxLive = options.maxLiveSessions ?? MAX_LIVE_SESSIONS;
    this.#limits = {
      turnTimeoutMs: options.turnTimeoutMs ?? TURN_TIMEOUT_MS,
      approvalTimeoutMs: options.approvalTimeoutMs ?? APPROVAL_TIMEOUT_MS,
      cancelGraceMs: options.cancelGraceMs ?? AGENT_STOP_GRACE_MS,
      stopGraceMs: options.stopGraceMs ?? AGENT_STOP_GRACE_MS,
    };
  }

  /** Sends events through `publish` until `signal` aborts (the connection ended). */
  attach(publish: Publish, signal: AbortSignal): void {
    if (signal.aborted) return;
    this.#publish = publish;
    signal.addEventListener("abort", () => {
      if (this.#publish === publish) this.#publish = undefined;
    });
  }

  /** `cwd` is the workspace root, already confined by the handler. */
  async start(
    params: Pick<ParamsOf<"agentSession.start">, "sessionId" | "profile" | "restore">,
    cwd: string,
    signal: AbortSignal,
  ): Promise<ResultOf<"agentSession.start">> {
    // Loaded on the first start, not at start-up: the ACP SDK and its schemas are memory an
    // agent that runs no session does not need (one bundle: esbuild runs the module's top
    // level on this first import). Before the checks below, which must not be split by an await.
    const { AgentSession } = await loadAgentSession();
    const existing = this.#sessions.get(params.sessionId);
    if (existing?.live) {
      // A retried start (its answer was lost) finds the session it started.
      return { profile: existing.profile.name, state: existing.state };
    }
    const profile = findAgentProfile(this.#profiles, params.profile, this.#policyFile);
    const live = [...this.#sessions.values()].filter((session) => session.live).length;
    if (live >= this.#maxLive) {
      throw new KaiError(
        "CONFLICT",
        `this host already runs ${live} agent sessions, its most; close one before starting another`,
      );
    }
    const session = new AgentSession(
      params.sessionId,
      profile,
      params.restore?.lastSeq ?? 0,
      this.#limits,
      (event, chars) => this.#send(event, chars),
    );
    this.#sessions.delete(params.sessionId);
    this.#sessions.set(params.sessionId, session);
    try {
      await session.start(cwd, params.restore, signal);
    } catch (error) {
      this.#sessions.delete(params.sessionId);
      throw error;
    }
    this.#prune();
    return { profile: profile.name, state: session.state };
  }

  prompt(params: ParamsOf<"agentSession.prompt">): ResultOf<"agentSession.prompt"> {
    this.#get(params.sessionId).prompt(params.runId, params.message);
    return { runId: params.runId };
  }

  cancel(params: ParamsOf<"agentSession.cancel">): ResultOf<"agentSession.cancel"> {
    return { cancelled: this.#get(params.sessionId).cancel() };
  }

  answer(params: ParamsOf<"agentSession.answer">): ResultOf<"agentSession.answer"> {
    const { state, optionId } = this.#get(params.sessionId).answer(params.approvalId, params.kind);
    if (state === "pending") throw new Error("an answered approval cannot be pending");
    return optionId === undefined ? { state } : { state, optionId };
  }

  async close(params: ParamsOf<"agentSession.close">): Promise<ResultOf<"agentSession.close">> {
    return { state: await this.#get(params.sessionId).close() };
  }

  /** Re-sends what each session holds after the edge's lastSeq (as events, before the answer). */
  sync(params: ParamsOf<"agentSession.sync">): ResultOf<"agentSession.sync"> {
    return {
      sessions: params.sessions.map(({ sessionId, lastSeq }) => {
        const session = this.#sessions.get(sessionId);
        if (!session) return { sessionId, state: { status: "interrupted" as const, lastSeq } };
        const lost = session.resend(lastSeq);
        // The re-sent messages leave before this reply, as the command promises.
        this.#batch.flush();
        return lost ? { sessionId, state: session.state, lost } : { sessionId, state: session.state };
      }),
    };
  }

  /** The pid of a session's agent process (logs, and tests that check it is gone). */
  pidOf(sessionId: string): number | undefined {
    return this.#sessions.get(sessionId)?.pid;
  }

  /** Stops every agent process (kai-agent is stopping). */
  async stopAll(): Promise<void> {
    await Promise.all([...this.#sessions.values()].map((session) => session.close()));
  }

  #get(sessionId: string): AgentSession {
    const session = this.#sessions.get(sessionId);
    if (session) return session;
    throw new KaiError(
      "NOT_FOUND",
      `no agent session ${sessionId} on this host (kai-agent may have restarted); start it again with restore`,
    );
  }

  /**
   * Messages of one session made within one turn of the event loop leave as one `messages`
   * event (a TurnBatcher): the host's object commits its storage once per event, so a burst of
   * tool output sent one message per frame spent most of the edge's CPU there. A state change
   * goes out after the messages before it, never ahead of them. `chars` is the message's JSON
   * length, measured once by the session.
   */
  #send(event: AgentSessionEvent, chars?: number): void {
    if (event.kind !== "message") {
      this.#batch.flush();
      this.#publishNow(event);
      return;
    }
    if (this.#batchSession !== event.sessionId) this.#batch.flush();
    this.#batchSession = event.sessionId;
    this.#batch.push(event.message, chars ?? JSON.stringify(event.message).length);
  }

  #publishBatch(messages: AgentMessage[]): void {
    const sessionId = this.#batchSession;
    const [only] = messages;
    this.#publishNow(
      messages.length === 1 && only
        ? { kind: "message", sessionId, message: only }
        : { kind: "messages", sessionId, messages },
    );
  }

  #publishNow(event: AgentSessionEvent): void {
    try {
      this.#publish?.(AGENT_SESSION_TOPIC, event);
    } catch {
      // A socket failing mid-send is the connection's business; the ring keeps the message for sync.
    }
  }

  /** Forgets the oldest sessions that are gone, beyond MAX_GONE_SESSIONS. */
  #prune(): void {
    const gone = [...this.#sessions.values()].filter((session) => !session.live);
    for (const session of gone.slice(0, Math.max(0, gone.length - MAX_GONE_SESSIONS))) {
      this.#sessions.delete(session.id);
    }
  }
}
