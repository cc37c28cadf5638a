import { signal } from "@preact/signals";

/** How a settled approval ended, as the stream or the event feed reported it. */
export interface ApprovalOutcome {
  state: "allowed" | "rejected" | "cancelled" | "pending";
  reason?: string;
}

/**
 * Settled approvals this page has heard of, by id: the inbox shows an approval that left the
 * pending list with its outcome ("already decided elsewhere: allowed") instead of dropping it.
 */
export const approvalOutcomes = signal<Record<string, ApprovalOutcome>>({});

export function recordOutcome(approvalId: string, outcome: ApprovalOutcome): void {
  if (outcome.state === "pending") return;
  const known = approvalOutcomes.value[approvalId];
  if (known?.state === outcome.state && known.reason === outcome.reason) return;
  approvalOutcomes.value = { ...approvalOutcomes.value, [approvalId]: outcome };
}
