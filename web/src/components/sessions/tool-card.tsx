import { approvalOutcomes } from "../../state/sessions/approval-outcomes";
import type { ToolItem } from "../../state/sessions/transcript";
import { ApprovalActions } from "./approval-actions";

/**
 * One tool call: its name and title, input, output or error (collapsible, open until it ends),
 * the truncation flag, and its approval inline when it asked for one.
 */
export function ToolCard({ item, sessionId, blocked }: { item: ToolItem; sessionId: string; blocked?: string }) {
  const approval = item.approval;
  const outcome = approval && (approvalOutcomes.value[approval.id] ?? approval);
  const failed = item.error !== undefined;
  return (
    <li class="tool-card" data-kind="tool" data-tool-call-id={item.toolCallId} data-failed={failed || undefined}>
      <details open={!item.finished || failed || approval?.state === "pending"}>
        <summary>
          <span class="tool-name">{item.tool ?? "tool"}</span> {item.title && <span>{item.title}</span>}{" "}
          <span class="muted">{failed ? "failed" : item.finished ? "done" : "running"}</span>
        </summary>
        {item.input && (
          <>
            <span class="muted">Input</span>
            <pre class="tool-io">{JSON.stringify(item.input, null, 2)}</pre>
          </>
        )}
        {item.output !== undefined && (
          <>
            <span class="muted">Output</span>
            <pre class="tool-io">{item.output}</pre>
          </>
        )}
        {failed && (
          <>
            <span class="muted">Error</span>
            <pre class="tool-io tool-error">{item.error}</pre>
          </>
        )}
        {item.truncated && <p class="muted">Cut at 64 KiB: the full output stayed on the machine.</p>}
      </details>
      {approval && (
        <ApprovalActions sessionId={sessionId} approvalId={approval.id} outcome={outcome} blocked={blocked} />
      )}
    </li>
  );
}
