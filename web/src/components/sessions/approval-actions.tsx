import { useState } from "preact/hooks";
import { type ApiError, asApiError } from "../../api/api-error";
import { answerApproval } from "../../state/sessions/answer-approval";
import type { Decision } from "../../state/sessions/api-types";
import type { ApprovalOutcome } from "../../state/sessions/approval-outcomes";
import { myAnswers } from "../../state/sessions/my-answers";
import { ErrorView } from "../error-view";

const OUTCOME_TEXT: Record<ApprovalOutcome["state"], string> = {
  pending: "waiting for an answer",
  allowed: "allowed",
  rejected: "rejected",
  cancelled: "cancelled",
};

/** A settled approval in words: who decided (this tab or elsewhere) and how it ended. */
function settledText(outcome: ApprovalOutcome, answeredHere: boolean): string {
  const ended = OUTCOME_TEXT[outcome.state];
  if (outcome.reason === "expired") return `Expired unanswered: ${ended}.`;
  if (outcome.reason === "withdrawn") return "Withdrawn: the agent process that asked is gone.";
  if (outcome.reason === "turn_cancelled") return "Cancelled with its turn.";
  return answeredHere ? `You decided: ${ended}.` : `Already decided elsewhere: ${ended}.`;
}

interface Props {
  sessionId: string;
  approvalId: string;
  /** What the page knows of it; undefined or `pending` while open. */
  outcome: ApprovalOutcome | undefined;
  /** Why it cannot be answered now (the host is offline), if so. */
  blocked?: string;
  /** It left the pending list and its outcome is not known here (the inbox without a stream). */
  gone?: boolean;
}

/**
 * Allow / Reject for one approval, far apart so a thumb cannot hit the wrong one, and what
 * became of it: "you decided", or "already decided elsewhere" when another tab or device (or
 * the expiry) answered first, from a 409 or from a resolution arriving.
 */
export function ApprovalActions({ sessionId, approvalId, outcome, blocked, gone }: Props) {
  const [error, setError] = useState<ApiError>();
  const mine = myAnswers.value[approvalId];
  const settled = outcome && outcome.state !== "pending" ? outcome : undefined;
  const answer = async (decision: Decision) => {
    setError(undefined);
    try {
      await answerApproval(sessionId, approvalId, decision);
    } catch (failure) {
      setError(asApiError(failure));
    }
  };
  let status: string | undefined;
  // "sending" counts as this tab's answer: the outcome can arrive before the POST's own reply.
  if (settled) status = settledText(settled, mine !== undefined && mine.status !== "too-late");
  else if (mine?.status === "too-late") status = "Already decided elsewhere; the outcome follows.";
  else if (gone) status = mine?.status === "sent" ? `You decided: ${mine.decision}.` : "Already decided elsewhere.";
  else if (mine?.status === "sent") status = `Answer sent (${mine.decision}); waiting for the agent.`;
  const state = settled?.state ?? (mine?.status === "too-late" || gone ? "decided-elsewhere" : "pending");
  return (
    <div class="approval" data-approval-id={approvalId} data-approval-state={state}>
      {status ? (
        <p class="approval-status" role="status">
          {status}
        </p>
      ) : (
        <>
          <p class="approval-status">{blocked ?? "The agent asks for permission."}</p>
          <div class="approval-actions">
            <button
              type="button"
              class="primary"
              disabled={!!blocked || mine?.status === "sending"}
              onClick={() => answer("allow")}
            >
              Allow
            </button>
            <button
              type="button"
              class="danger"
              disabled={!!blocked || mine?.status === "sending"}
              onClick={() => answer("reject")}
            >
              Reject
            </button>
          </div>
        </>
      )}
      <ErrorView error={error} />
    </div>
  );
}
