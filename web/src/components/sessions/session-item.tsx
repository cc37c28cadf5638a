import type { AgentSession } from "../../state/sessions/api-types";
import type { Places } from "../../state/sessions/use-places";
import { when } from "../when";
import { SessionStatus } from "./session-status";

/** One session in the list: status at a glance, where it runs, what runs, and approvals waiting. */
export function SessionItem(props: { session: AgentSession; places: Places | undefined; pending: number }) {
  const { session, places, pending } = props;
  const host = places?.host(session.host_id);
  const workspace = places?.workspace(session.workspace_id);
  return (
    <li class="card session-item" data-session-id={session.id} data-status={session.status}>
      <div class="row">
        <SessionStatus status={session.status} />
        <a class="session-link" href={`/sessions/${session.id}`}>
          {session.title ?? "Untitled session"}
        </a>
        {pending > 0 && (
          <a class="pending-chip" href="/approvals" data-pending={pending}>
            {pending} to approve
          </a>
        )}
      </div>
      <div class="row muted">
        <span>{workspace?.name ?? "workspace"}</span>
        <span>·</span>
        <span class={host?.online === false ? "offline" : undefined}>
          {host ? `${host.name}${host.online ? "" : " (offline)"}` : session.host_id}
        </span>
        <span>·</span>
        <span>{session.profile ?? "default profile"}</span>
        <span>·</span>
        <span>{when(session.updated_at)}</span>
      </div>
    </li>
  );
}
