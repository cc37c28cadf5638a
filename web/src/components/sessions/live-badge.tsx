import type { LiveStatus } from "../../api/live-socket";

const LABELS: Record<LiveStatus, string> = {
  connecting: "connecting…",
  live: "live",
  reconnecting: "reconnecting…",
  offline: "no network",
  closed: "stopped",
};

/** How the page's stream stands, so a stale view never passes for a live one. */
export function LiveBadge({ status }: { status: LiveStatus }) {
  return (
    <span class="live-badge" data-live={status} role="status">
      {LABELS[status]}
    </span>
  );
}
