import { ApiError } from "../../api/api-error";
import { api, call } from "../../api/client";
import type { Decision } from "./api-types";
import { recordMyAnswer } from "./my-answers";
import { refreshApprovals } from "./pending-approvals";

/**
 * Answers an approval over REST (the same call from a tool card and from the inbox). The first
 * answer wins: a 409 means another device, tab or the expiry decided first, which is recorded
 * as `too-late` rather than shown as a failure. Any other failure is thrown for ErrorView.
 */
export async function answerApproval(sessionId: string, approvalId: string, decision: Decision): Promise<void> {
  recordMyAnswer(approvalId, { decision, status: "sending" });
  try {
    await call(
      api.POST("/api/v1/agent-sessions/{id}/approvals/{approval_id}", {
        params: { path: { id: sessionId, approval_id: approvalId } },
        body: { decision },
      }),
    );
    recordMyAnswer(approvalId, { decision, status: "sent" });
  } catch (failure) {
    if (failure instanceof ApiError && failure.status === 409) {
      recordMyAnswer(approvalId, { decision, status: "too-late" });
    } else {
      recordMyAnswer(approvalId, undefined);
      throw failure;
    }
  } finally {
    void refreshApprovals();
  }
}
