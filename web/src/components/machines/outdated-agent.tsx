import { CopyButton } from "../copy-button";
import "./outdated-agent.css";

/** What fixes an outdated agent: one command on its machine, which fetches the edge's release and restarts. */
const UPGRADE_COMMAND = "kai-agent upgrade";

/**
 * A host whose agent is older than the release this edge serves: a badge, the two versions and
 * the command to run on that machine, copyable. The edge decides `outdated` (REST and the feed's
 * host.online), so this never compares versions itself.
 */
export function OutdatedAgent({ version, latest }: { version: string | null; latest: string }) {
  return (
    <div class="outdated-agent" data-outdated>
      <span class="row">
        <span class="outdated-badge">outdated</span>
        <span>
          kai-agent {version} → {latest}. On that machine run:
        </span>
      </span>
      <span class="row">
        <code>{UPGRADE_COMMAND}</code>
        <CopyButton text={UPGRADE_COMMAND} label="Copy command" />
      </span>
    </div>
  );
}
