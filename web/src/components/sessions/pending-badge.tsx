import { useEffect } from "preact/hooks";
import "./pending-badge.css";
import { APPROVALS_PAGE, pendingCount, watchPendingApprovals } from "../../state/sessions/pending-approvals";

/**
 * The nav's count of approvals waiting (and, through the watch it starts, the tab title's).
 * Mounted once with the signed-in frame, so the count is kept fresh on every page.
 */
export function PendingBadge() {
  useEffect(() => watchPendingApprovals(), []);
  const count = pendingCount.value;
  return (
    <span class="nav-badge" data-pending-count={count} hidden={count === 0}>
      {count >= APPROVALS_PAGE ? `${APPROVALS_PAGE}+` : count}
      <span class="visually-hidden"> waiting</span>
    </span>
  );
}
