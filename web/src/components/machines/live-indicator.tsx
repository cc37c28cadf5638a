import { feedStatus } from "../../state/live-feed";
import "./live-indicator.css";

const LABEL = {
  connecting: "connecting…",
  live: "live",
  reconnecting: "reconnecting…",
  offline: "offline",
  closed: "not live",
} as const;

/** The header's dot and word for the live feed: is what the pages show still being updated? */
export function LiveIndicator() {
  const status = feedStatus.value;
  return (
    <span class={`live-indicator ${status}`} data-live={status} role="status" aria-live="polite">
      <span class="dot" aria-hidden="true" />
      {LABEL[status]}
    </span>
  );
}
