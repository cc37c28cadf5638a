import type { AgentSession } from "../../state/sessions/api-types";

const LABELS: Record<AgentSession["status"], string> = {
  starting: "starting",
  running: "running",
  waiting_for_approval: "needs approval",
  idle: "idle",
  disconnected: "host offline",
  interrupted: "interrupted",
  ended: "ended",
  failed: "failed",
};

/** A session's status as a coloured word (the colour comes from sessions.css by `data-status`). */
export function SessionStatus({ status }: { status: AgentSession["status"] }) {
  return (
    <span class="session-status" data-status={status}>
      {LABELS[status]}
    </span>
  );
}
