import type { components } from "../../api/schema";
import { CopyButton } from "../copy-button";
import { when } from "../when";

type Entry = components["schemas"]["AuditEntry"];

/** One relayed command: what, on which machine, how it ended, how long it took, when, and its request id. */
export function AuditRow({ entry, hostName }: { entry: Entry; hostName: string }) {
  const ok = entry.outcome === "ok";
  return (
    <li class="audit-row" data-op={entry.op} data-outcome={entry.outcome}>
      <div class="row">
        <code class="op">{entry.op}</code>
        <span class={`badge ${ok ? "succeeded" : "failed"}`}>{entry.outcome}</span>
      </div>
      <span class="muted">
        {hostName} · {entry.durationMs} ms · {when(entry.createdAt)}
      </span>
      <div class="row">
        <code class="muted">{entry.requestId}</code>
        <CopyButton text={entry.requestId} label="Copy request id" />
      </div>
    </li>
  );
}
