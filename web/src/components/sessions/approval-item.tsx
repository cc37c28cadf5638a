import type { PendingApproval } from "../../state/sessions/api-types";
import { approvalOutcomes } from "../../state/sessions/approval-outcomes";
import type { Places } from "../../state/sessions/use-places";
import { when } from "../when";
import { ApprovalActions } from "./approval-actions";

/** One approval in the inbox: what the agent wants to do, where, until when; answerable here. */
export function ApprovalItem(props: { approval: PendingApproval; places: Places | undefined; gone: boolean }) {
  const { approval, places, gone } = props;
  const host = places?.host(approval.host_id);
  const offline = host?.online === false ? `${host.name} is offline: the answer waits until it is back.` : undefined;
  return (
    <li class="card approval-item" data-approval-item={approval.id}>
      <div class="row">
        <strong>{approval.title ?? approval.tool ?? "A tool call"}</strong>
        {approval.tool && <span class="muted">{approval.tool}</span>}
      </div>
      <div class="row muted">
        <a href={`/sessions/${approval.session_id}`}>Open the session</a>
        <span>·</span>
        <span>{host?.name ?? approval.host_id}</span>
        <span>·</span>
        <span>asked {when(approval.created_at)}</span>
        <span>·</span>
        <span>expires {when(approval.expires_at)}</span>
      </div>
      <ApprovalActions
        sessionId={approval.session_id}
        approvalId={approval.id}
        outcome={approvalOutcomes.value[approval.id]}
        blocked={offline}
        gone={gone}
      />
    </li>
  );
}
