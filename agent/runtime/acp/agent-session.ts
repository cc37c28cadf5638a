import { RequestError } from "@agentclientprotocol/sdk";
import { KaiError, messageOf } from "../../../shared/errors";
import type { AgentMessage, AgentSessionEvent, AgentSessionState } from "../../../shared/schemas/agent-sessions";
import { AcpClient } from "./acp-client";
import { AgentProcess } from "./agent-process";
import type { AgentProfile } from "./agent-profiles";
import { Approvals } from "./approvals";
import { MessageMapper, truncate, type UnnumberedMessage } from "./message-mapper";
import { MessageRing } from "./message-ring";

export interface SessionLimits {
  /** The longest a turn may run before it is cancelled. */
  turnTimeoutMs: number;
  /** How long a permission request waits for an answer before it is rejected. */
  approvalTimeoutMs: number;
  /** How long a cancelled (timed-out) turn may take to end before the process is stopped. */
  cancelGraceMs: number;
  /** SIGTERM to SIGKILL when the process is stopped. */
  stopGraceMs: number;
}

/** Where a session's events go; a message event comes with the length of its message's JSON. */
export type Publish = (event: AgentSessionEvent, chars?: number) => void;

/** JSON-RPC's "request cancelled" (`$/cancel_request`), which some agents answer a cancelled prompt with. */
const REQUEST_CANCELLED = -32800;

interface Turn {
  runId: string;
  timer: NodeJS.Timeout;
  timedOut: boolean;
  graceTimer?: NodeJS.Timeout;
  /** Settles once the turn's last message went out. */
  ended?: Promise<void>;
}

/**
 * One agent session: its agent process, the ACP connection to it, and the messages it sent,
 * numbered from 1 (or on from a restored session's last number), gap-free. One turn at a
 * time; every turn ends with exactly one `done` or `error` message.
 */
export class AgentSession {
  readonly id: string;
  readonly profile: AgentProfile;
  readonly #limits: SessionLimits;
  readonly #publish: Publish;
  readonly #ring = new MessageRing();
  readonly #mapper = new MessageMapper();
  readonly #approvals: Approvals;
  #state: AgentSessionState;
  #process: AgentProcess | undefined;
  #client: AcpClient | undefined;
  #turn: Turn | undefined;
  /** session/load replays the conversation as updates: those are history, not new messages. */
  #replaying = false;
  #closing = false;

  constructor(id: string, profile: AgentProfile, lastSeq: number, limits: SessionLimits, publish: Publish) {
    this.id = id;
    this.profile = profile;
    this.#limits = limits;
    this.#publish = publish;
    this.#state = { status: "starting", lastSeq };
    this.#approvals = new Approvals((message) => {
      this.#emit(message);
      this.#updateState({ status: this.#busyStatus() });
    }, limits.approvalTimeoutMs);
  }

  get state(): AgentSessionState {
    return { ...this.#state };
  }

  /** The process runs (or is starting): the session counts against the host's bound. */
  get live(): boolean {
    return !this.#closing && (this.#process === undefined ? this.#state.status === "starting" : this.#process.alive);
  }

  get pid(): number | undefined {
    return this.#process?.pid;
  }

  /**
   * Starts the agent in `cwd` (already confined by the caller) and opens its ACP session: a
   * new one, or the one `restore` names, by session/resume when the agent offers it, else
   * session/load. Any failure stops the process and is AGENT_PROCESS_FAILED with its stderr.
   */
  async start(cwd: string, restore: { acpSessionId: string } | undefined, signal: AbortSignal): Promise<void> {
    this.#publish({ kind: "state", sessionId: this.id, state: this.state });
    const agentProcess = await AgentProcess.start(this.profile, cwd);
    if (this.#closing || signal.aborted) {
      // Closed (or given up on) while it was spawning: nothing else would ever stop it.
      await agentProcess.stop(this.#limits.stopGraceMs);
      throw agentProcess.failure("the session was closed while its agent was starting");
    }
    this.#process = agentProcess;
    const client = new AcpClient(agentProcess, {
      onUpdate: (params) => this.#onUpdate(params),
      onPermission: (params, requestSignal) =>
        this.#approvals.request(this.#mapper.permissionToolUse(params.toolCall), params.options, requestSignal),
    });
    this.#client = client;
    void agentProcess.exited.then(() => this.#onExit());
    const onAbort = () => client.close();
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      await client.initialize();
      if (restore) {
        await this.#restore(client, restore.acpSessionId, cwd);
        this.#state.acpSessionId = restore.acpSessionId;
      } else {
        this.#state.acpSessionId = await client.newSession(cwd);
      }
    } catch (error) {
      client.close();
      await agentProcess.stop(this.#limits.stopGraceMs);
      if (error instanceof KaiError) throw error;
      const why = signal.aborted
        ? "the start was cancelled or ran past its deadline before the agent answered"
        : restore
          ? `the agent could not restore its session ${restore.acpSessionId} (${messageOf(error)}); start a new session`
          : `ACP start failed (${messageOf(error)})`;
      throw agentProcess.failure(why);
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
    this.#updateState({ status: "idle" });
  }

  async #restore(client: AcpClient, acpSessionId: string, cwd: string): Promise<void> {
    const method = client.restoreMethod;
    if (method === "resume") return client.resume(acpSessionId, cwd);
    if (method !== "load") {
      throw new KaiError(
        "AGENT_PROCESS_FAILED",
        `${this.profile.name}: the agent offers neither session/resume nor session/load; start a new session instead`,
      );
    }
    this.#replaying = true;
    try {
      await client.load(acpSessionId, cwd);
    } finally {
      this.#replaying = false;
    }
  }

  /** Starts a turn; its messages follow as events. CONFLICT while another turn runs. */
  prompt(runId: string, text: string): void {
    const client = this.#client;
    const acpSessionId = this.#state.acpSessionId;
    if (!client || !acpSessionId || !this.live) {
      throw new KaiError(
        "CONFLICT",
        `the agent process of session ${this.id} is gone (${this.#state.status}); start it again with restore`,
      );
    }
    if (this.#turn) {
      throw new KaiError(
        "CONFLICT",
        "a turn is already running in this session; wait for its done message or cancel it",
      );
    }
    const timer = setTimeout(() => this.#timeOut(), this.#limits.turnTimeoutMs);
    timer.unref();
    const turn: Turn = { runId, timer, timedOut: false };
    this.#turn = turn;
    this.#updateState({ status: "running", error: undefined, stopReason: undefined });
    turn.ended = this.#runTurn(client, acpSessionId, text, turn);
  }

  async #runTurn(client: AcpClient, acpSessionId: string, text: string, turn: Turn): Promise<void> {
    let stopReason: string | undefined;
    let failure: unknown;
    try {
      stopReason = await client.prompt(acpSessionId, text);
    } catch (error) {
      failure = error;
    }
    clearTimeout(turn.timer);
    clearTimeout(turn.graceTimer);
    this.#approvals.cancelAll();
    this.#mapper.endTurn();
    if (failure !== undefined && !(failure instanceof RequestError)) {
      // Not an answer from the agent: the connection ended, so the process is gone (or going).
      await this.#process?.stop(this.#limits.stopGraceMs);
      const why = turn.timedOut
        ? `${this.#timedOut()} and the agent did not stop on cancel; it was killed`
        : "the agent process exited during the turn";
      const message = this.#process?.describe(why) ?? why;
      this.#endTurn(turn, this.#closing ? { type: "done", content: "cancelled" } : { type: "error", error: message });
      if (!this.#closing) this.#updateState({ status: "interrupted", error: cutState(message) });
      return;
    }
    // An agent that answers a cancelled prompt with JSON-RPC's "request cancelled" means the same as `cancelled`.
    if (failure instanceof RequestError && failure.code === REQUEST_CANCELLED) {
      failure = undefined;
      stopReason = "cancelled";
    }
    if (turn.timedOut) {
      // The agent stopped on cancel and its process still serves: the session takes the next
      // message (`failed` would be final at the edge, and leave a live process nobody can use).
      this.#endTurn(turn, { type: "error", error: `${this.#timedOut()} and was cancelled` });
      this.#updateState({ status: "idle", stopReason: stopReason ?? "cancelled" });
      return;
    }
    if (failure instanceof RequestError) {
      const data =
        failure.data === undefined
          ? ""
          : `: ${typeof failure.data === "string" ? failure.data : JSON.stringify(failure.data)}`;
      const message = `${this.profile.name}: ${failure.message}${data} (JSON-RPC ${failure.code})`;
      // The turn failed, not the session: its process still serves and takes the next message
      // (`failed` is final at the edge and would strand a live process in one of the host's slots).
      this.#endTurn(turn, { type: "error", error: message });
      this.#updateState({ status: "idle", stopReason: "error", error: cutState(message) });
      return;
    }
    this.#endTurn(turn, { type: "done", content: stopReason });
    this.#updateState({ status: "idle", stopReason });
  }

  #endTurn(turn: Turn, last: UnnumberedMessage): void {
    const [error, truncated] = truncate(last.error ?? "");
    this.#emit(last.error === undefined ? last : { ...last, error, ...(truncated ? { truncated } : {}) });
    if (this.#turn === turn) this.#turn = undefined;
  }

  /** Cancels the running turn (pending approvals answered `cancelled`); false when none runs. */
  cancel(): boolean {
    if (!this.#turn || !this.#state.acpSessionId) return false;
    this.#approvals.cancelAll();
    this.#client?.cancel(this.#state.acpSessionId);
    return true;
  }

  answer(approvalId: string, kind: Parameters<Approvals["answer"]>[1]): ReturnType<Approvals["answer"]> {
    return this.#approvals.answer(approvalId, kind);
  }

  /** Ends the session: cancels its turn, closes ACP, stops the process (SIGTERM, then SIGKILL). */
  async close(): Promise<AgentSessionState> {
    if (this.#state.status === "ended") return this.state;
    this.#closing = true;
    this.cancel();
    this.#client?.close();
    await this.#process?.stop(this.#limits.stopGraceMs);
    // The turn's own ending (a cancelled `done`) comes from its runner once the connection dropped.
    await this.#turn?.ended;
    this.#updateState({ status: "ended", error: undefined });
    return this.state;
  }

  /** The messages after `lastSeq` still held, re-sent as events, and what is gone. */
  resend(lastSeq: number): { from: number; to: number } | undefined {
    const { messages, lost } = this.#ring.since(lastSeq, this.#state.lastSeq);
    for (const { message, chars } of messages) this.#publish({ kind: "message", sessionId: this.id, message }, chars);
    return lost;
  }

  #timedOut(): string {
    const ms = this.#limits.turnTimeoutMs;
    const after = ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
    return `the turn timed out after ${after} (agentSessions.turnTimeoutSeconds in kai-agent's policy file)`;
  }

  #timeOut(): void {
    const turn = this.#turn;
    if (!turn || !this.#state.acpSessionId) return;
    turn.timedOut = true;
    this.cancel();
    // An agent that ignores the cancel too is stopped: the turn then ends as interrupted.
    turn.graceTimer = setTimeout(() => {
      if (this.#turn === turn) this.#client?.close();
    }, this.#limits.cancelGraceMs);
    turn.graceTimer.unref();
  }

  #onExit(): void {
    // A turn reports the exit itself; a close is an ending, not a loss.
    if (this.#turn || this.#closing || this.#state.status === "starting") return;
    const why = this.#process?.describe("the agent process exited") ?? "the agent process exited";
    this.#updateState({ status: "interrupted", error: cutState(why) });
  }

  #onUpdate(params: unknown): void {
    const update = typeof params === "object" && params !== null && "update" in params ? params.update : undefined;
    const { messages, state } = this.#mapper.map(update);
    if (Object.keys(state).length > 0) this.#updateState(state);
    if (this.#replaying) return;
    for (const message of messages) this.#emit(message);
  }

  #emit(message: UnnumberedMessage): void {
    const seq = this.#state.lastSeq + 1;
    this.#state.lastSeq = seq;
    const numbered: AgentMessage = { ...message, seq, ...(this.#turn ? { run_id: this.#turn.runId } : {}) };
    // Serialised once: its length bounds both the ring and the batch it leaves in.
    const chars = JSON.stringify(numbered).length;
    this.#ring.push({ message: numbered, chars });
    this.#publish({ kind: "message", sessionId: this.id, message: numbered }, chars);
  }

  #busyStatus(): AgentSessionState["status"] {
    if (!this.#turn) return this.#state.status;
    return this.#approvals.waiting ? "waiting_for_approval" : "running";
  }

  /** Applies `patch`; a state event goes out only when something besides lastSeq changed. */
  #updateState(patch: Partial<AgentSessionState>): void {
    const next: AgentSessionState = { ...this.#state, ...patch };
    for (const key of Object.keys(next) as (keyof AgentSessionState)[]) {
      if (next[key] === undefined) delete next[key];
    }
    const changed = STATE_FIELDS.some((field) => !sameField(field, this.#state, next));
    this.#state = next;
    if (changed) this.#publish({ kind: "state", sessionId: this.id, state: this.state });
  }
}

type StateField = Exclude<keyof AgentSessionState, "lastSeq">;

/**
 * What a state event reports; lastSeq is left out (it changes with every message, which goes
 * out itself). A record, so a field added to the schema but not here is a compile error.
 */
const STATE_FIELD_SET: Record<StateField, true> = {
  status: true,
  title: true,
  usage: true,
  mode: true,
  stopReason: true,
  error: true,
  acpSessionId: true,
};
const STATE_FIELDS = Object.keys(STATE_FIELD_SET) as StateField[];

/** Field by field: only `usage` is an object (a new one per usage_update), compared by its parts. */
function sameField(field: StateField, a: AgentSessionState, b: AgentSessionState): boolean {
  if (field !== "usage") return a[field] === b[field];
  const [x, y] = [a.usage, b.usage];
  if (x === y) return true;
  return (
    x?.used === y?.used &&
    x?.size === y?.size &&
    x?.cost?.amount === y?.cost?.amount &&
    x?.cost?.currency === y?.cost?.currency &&
    (x === undefined) === (y === undefined) &&
    (x?.cost === undefined) === (y?.cost === undefined)
  );
}

function cutState(text: string): string {
  return text.length > 4096 ? `${text.slice(0, 4093)}...` : text;
}
