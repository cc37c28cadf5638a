import type { components } from "../api/schema";
import type { ApprovalChange, HostLive } from "./live-feed";

type Host = components["schemas"]["Host"];

/** A host as REST listed it, with what the feed said since: the live state wins where it has one. */
export function withLive(host: Host, live: HostLive | undefined): Host {
  if (!live) return host;
  const online = live.online ?? host.online;
  return {
    ...host,
    online,
    lastSeenAt: live.at && live.online !== undefined ? live.at : host.lastSeenAt,
    agentVersion: live.agentVersion ?? host.agentVersion,
    outdated: live.outdated ?? host.outdated,
    dockerVersion: live.dockerVersion !== undefined ? live.dockerVersion : host.dockerVersion,
    dockerOk: live.dockerOk ?? host.dockerOk,
  };
}

/**
 * Pending approvals per host id: those REST listed that the feed did not see settled, plus those
 * the feed saw asked for since.
 */
export function pendingByHost(
  listed: readonly { id: string; host_id: string }[],
  changes: ReadonlyMap<string, ApprovalChange>,
): Map<string, number> {
  const pending = new Map<string, string>();
  for (const approval of listed) pending.set(approval.id, approval.host_id);
  for (const [id, change] of changes) {
    if (change.pending) pending.set(id, change.hostId);
    else pending.delete(id);
  }
  const counts = new Map<string, number>();
  for (const hostId of pending.values()) counts.set(hostId, (counts.get(hostId) ?? 0) + 1);
  return counts;
}
