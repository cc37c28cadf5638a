import { useEffect, useRef } from "preact/hooks";
import { ErrorView } from "../../components/error-view";
import { ApprovalItem } from "../../components/sessions/approval-item";
import type { PendingApproval } from "../../state/sessions/api-types";
import { pendingApprovals, pendingApprovalsError, refreshApprovals } from "../../state/sessions/pending-approvals";
import { usePlaces } from "../../state/sessions/use-places";
import "./sessions.css";

/**
 * Every approval waiting for you, across sessions and hosts, answerable from here. One that
 * leaves the list while shown stays on the page with how it ended, so an answer given on
 * another device reads as "already decided elsewhere" instead of a card vanishing under a thumb.
 */
export function ApprovalsInbox() {
  const places = usePlaces();
  const seen = useRef(new Map<string, PendingApproval>());
  useEffect(() => {
    void refreshApprovals();
  }, []);
  const pending = pendingApprovals.value;
  const open = new Set(pending?.map((approval) => approval.id));
  for (const approval of pending ?? []) seen.current.set(approval.id, approval);
  const shown = [...seen.current.values()];
  return (
    <>
      <h1>Approvals</h1>
      <ErrorView error={pendingApprovalsError.value ?? places.error} />
      {pending === undefined && <p class="muted">Loading…</p>}
      {pending?.length === 0 && <p class="muted">Nothing waits for your approval.</p>}
      <ul class="list" aria-label="Approvals">
        {shown.map((approval) => (
          <ApprovalItem key={approval.id} approval={approval} places={places.data} gone={!open.has(approval.id)} />
        ))}
      </ul>
    </>
  );
}
