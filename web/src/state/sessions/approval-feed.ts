import type { UserFeedFrame } from "../../../../shared/schemas/user-events";
import { LiveSocket } from "../../api/live-socket";
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
 * The user's event feed (`WS /api/v1/ws/events`) as the session pages use it: every session
 * event is noted (`sessionChange`) for the pages showing that session; an approval
 * asked for anywhere reloads the pending list, one settled anywhere is recorded with its
 * outcome at once (the list drops it even before the database write behind the list lands).
 * The first connection asks for live events only, reconnects resume after the last `seq`, and
 * every (re)connection reloads the list, which covers whatever happened while it was down.
 */
export function openApprovalFeed(handlers: FeedHandlers): LiveSocket {
  let lastSeq: number | undefined;
  return new LiveSocket({
    url: () => (lastSeq === undefined ? "/api/v1/ws/events" : `/api/v1/ws/events?since=${lastSeq}`),
    onOpen: handlers.refresh,
    onFrame: (text) => {
      let frame: UserFeedFrame;
      try {
        frame = JSON.parse(text) as UserFeedFrame;
      } catch {
        return;
      }
      if (frame.type === "live" || frame.type === "reset") {
        lastSeq = frame.seq;
        if (frame.type === "reset") handlers.refresh();
        return;
      }
      if (typeof (frame as { seq?: unknown }).seq === "number") lastSeq = (frame as { seq: number }).seq;
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
    },
  });
}
