import { subscribeLiveFeed } from "../live-feed";
import { type ApprovalOutcome, recordOutcome } from "./approval-outcomes";
import { noteSessionChange } from "./session-changes";

/** What the approvals state needs from the feed. */
interface FeedHandlers {
  /** Something about approvals changed (or may have while disconnected): reload the pending list. */
  refresh: () => void;
  /** The event named the approval that may still be missing from a list loaded just now. */
  expect: (approvalId: string) => void;
}

const SETTLED = new Set(["allowed", "rejected", "cancelled"]);

/**
 * The user's event feed (state/live-feed.ts, the one socket per tab) as the session pages use
 * it: every session event is noted (`sessionChange`) for the pages showing that session; an
 * approval asked for anywhere reloads the pending list, one settled anywhere is recorded with
 * its outcome at once (the list drops it even before the database write behind the list
 * lands). Every (re)connection (its `live` frame) and every `reset` reloads the list, which
 * covers whatever happened while the feed was down. Returns the unsubscribe.
 */
export function followApprovals(handlers: FeedHandlers): () => void {
  return subscribeLiveFeed((frame) => {
    if (frame.type === "live" || frame.type === "reset") {
      handlers.refresh();
      return;
    }
    if (frame.type !== "session") return;
    noteSessionChange(frame.sessionId);
    const approvalId = typeof frame.detail.approvalId === "string" ? frame.detail.approvalId : undefined;
    if (frame.event === "session.approval_resolved" && approvalId && SETTLED.has(String(frame.detail.state))) {
      recordOutcome(approvalId, { state: frame.detail.state as ApprovalOutcome["state"] });
      handlers.refresh();
    } else if (frame.event === "session.approval_requested" && approvalId) {
      handlers.expect(approvalId);
    } else if (frame.event === "session.ended" || frame.event === "session.failed") {
      handlers.refresh();
    }
  });
}
