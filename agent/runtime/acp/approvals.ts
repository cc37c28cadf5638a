import { randomUUID } from "node:crypto";
import type { RequestPermissionResponse } from "@agentclientprotocol/sdk";
import { KaiError } from "../../../shared/errors";
import type { ApprovalInfo, ApprovalOption } from "../../../shared/schemas/agent-sessions";
import type { UnnumberedMessage } from "./message-mapper";

/** How long a permission request waits for an answer before it is rejected. */
export const APPROVAL_TIMEOUT_MS = 10 * 60_000;

type OptionKind = ApprovalOption["kind"];
type Reason = NonNullable<ApprovalInfo["reason"]>;

interface Pending {
  info: ApprovalInfo;
  /** The agent's own option ids, whole (the reported ones are cut to the schema's bound), by index. */
  agentIds: string[];
  /** The message that asked: its resolution is the same tool_use with the final approval. */
  asked: UnnumberedMessage;
  resolve: (response: RequestPermissionResponse) => void;
  timer: NodeJS.Timeout;
}

/** The most approvals one session keeps pending; an agent asking more gets `cancelled`. */
const MAX_PENDING = 64;

/**
 * A session's permission requests. Each is recorded (and its `tool_use` emitted) when the
 * agent asks, not when someone looks; the first answer wins. Kai answers by option KIND,
 * never by id or name (they differ per agent). Expiry rejects, never picks `options[0]`.
 */
export class Approvals {
  readonly #pending = new Map<string, Pending>();
  readonly #emit: (message: UnnumberedMessage) => void;
  readonly #timeoutMs: number;

  constructor(emit: (message: UnnumberedMessage) => void, timeoutMs = APPROVAL_TIMEOUT_MS) {
    this.#emit = emit;
    this.#timeoutMs = timeoutMs;
  }

  get waiting(): boolean {
    return this.#pending.size > 0;
  }

  /**
   * Records a request and answers it once someone does (or it expires, or the turn is
   * cancelled, or the agent withdraws it through `signal`). `asked` is the tool_use to send.
   */
  request(
    asked: UnnumberedMessage,
    offered: { optionId: string; name: string; kind: string }[],
    signal: AbortSignal,
  ): Promise<RequestPermissionResponse> {
    const kept = offered
      .filter((option): option is typeof option & { kind: OptionKind } => isOptionKind(option.kind))
      .slice(0, 16);
    const options = kept.map((option) => ({
      id: option.optionId.slice(0, 256),
      name: option.name.slice(0, 256),
      kind: option.kind,
    }));
    if (this.#pending.size >= MAX_PENDING || signal.aborted) return Promise.resolve(CANCELLED);
    const info: ApprovalInfo = {
      id: randomUUID(),
      state: "pending",
      options,
      expires_at: new Date(Date.now() + this.#timeoutMs).toISOString(),
    };
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.#expire(info.id), this.#timeoutMs);
      timer.unref();
      this.#pending.set(info.id, { info, agentIds: kept.map((option) => option.optionId), asked, resolve, timer });
      signal.addEventListener("abort", () => this.#settle(info.id, "cancelled", undefined, "withdrawn"), {
        once: true,
      });
      this.#emit({ ...asked, approval: info });
    });
  }

  /** A person's answer, by kind; CONFLICT when the approval is no longer pending. */
  answer(approvalId: string, kind: OptionKind | "cancelled"): { state: ApprovalInfo["state"]; optionId?: string } {
    const pending = this.#pending.get(approvalId);
    if (!pending) {
      throw new KaiError(
        "CONFLICT",
        `approval ${approvalId} is already resolved (answered, expired, cancelled or withdrawn); nothing to answer`,
      );
    }
    if (kind === "cancelled") {
      this.#settle(approvalId, "cancelled", undefined, "answered");
      return { state: "cancelled" };
    }
    const option = pickOption(pending.info.options, kind);
    if (!option) {
      const offered = pending.info.options.map((each) => each.kind).join(", ");
      const family = kind.startsWith("allow") ? "allow" : "reject";
      throw new KaiError(
        "VALIDATION_ERROR",
        `the agent offered no ${family} option (offered: ${offered}); answer with one of those kinds`,
      );
    }
    const state = option.kind.startsWith("allow") ? "allowed" : "rejected";
    this.#settle(approvalId, state, option, "answered");
    return { state, optionId: option.id };
  }

  /** The turn was cancelled: every pending approval is answered `cancelled`. */
  cancelAll(reason: Reason = "turn_cancelled"): void {
    for (const id of [...this.#pending.keys()]) this.#settle(id, "cancelled", undefined, reason);
  }

  #expire(id: string): void {
    const pending = this.#pending.get(id);
    if (!pending) return;
    const reject = pickOption(pending.info.options, "reject_once");
    if (reject) this.#settle(id, "rejected", reject, "expired");
    else this.#settle(id, "cancelled", undefined, "expired");
  }

  #settle(id: string, state: ApprovalInfo["state"], option: ApprovalOption | undefined, reason: Reason): void {
    const pending = this.#pending.get(id);
    if (!pending) return;
    this.#pending.delete(id);
    clearTimeout(pending.timer);
    const info: ApprovalInfo = { ...pending.info, state, reason, ...(option ? { option_id: option.id } : {}) };
    this.#emit({ ...pending.asked, approval: info });
    const optionId = option && pending.agentIds[pending.info.options.indexOf(option)];
    pending.resolve(optionId !== undefined ? { outcome: { outcome: "selected", optionId } } : CANCELLED);
  }
}

const CANCELLED: RequestPermissionResponse = { outcome: { outcome: "cancelled" } };

/** The option of exactly `kind`, else the other one of its family (allow / reject). */
function pickOption(options: ApprovalOption[], kind: OptionKind): ApprovalOption | undefined {
  const sibling: Record<OptionKind, OptionKind> = {
    allow_once: "allow_always",
    allow_always: "allow_once",
    reject_once: "reject_always",
    reject_always: "reject_once",
  };
  return options.find((option) => option.kind === kind) ?? options.find((option) => option.kind === sibling[kind]);
}

function isOptionKind(kind: string): kind is OptionKind {
  return kind === "allow_once" || kind === "allow_always" || kind === "reject_once" || kind === "reject_always";
}
