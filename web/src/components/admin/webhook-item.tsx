import { useState } from "preact/hooks";
import { type ApiError, asApiError } from "../../api/api-error";
import { api, call } from "../../api/client";
import type { components } from "../../api/schema";
import { ErrorView } from "../error-view";
import { when } from "../when";
import { WebhookDeliveries } from "./webhook-deliveries";

type Webhook = components["schemas"]["Webhook"];

/** One webhook: its URL and events; send a test, its delivery log, delete (kept apart from the rest). */
export function WebhookItem({ webhook, onDeleted }: { webhook: Webhook; onDeleted: () => void }) {
  const [open, setOpen] = useState(false);
  const [error, setError] = useState<ApiError>();
  const path = { id: webhook.id };
  const [refresh, setRefresh] = useState(0);
  const act = (action: () => Promise<unknown>) => async () => {
    setError(undefined);
    try {
      await action();
    } catch (failure) {
      setError(asApiError(failure));
    }
  };
  const sendTest = act(async () => {
    await call(api.POST("/api/webhooks/{id}/test", { params: { path } }));
    setOpen(true);
    setRefresh((count) => count + 1);
  });
  const remove = act(async () => {
    if (!window.confirm(`Delete the webhook to ${webhook.url}? Pending deliveries are dropped.`)) return;
    await call(api.DELETE("/api/webhooks/{id}", { params: { path } }));
    onDeleted();
  });
  return (
    <li class="card" data-webhook={webhook.url}>
      <div class="row">
        <strong class="url">{webhook.url}</strong>
        {webhook.active ? <span class="badge succeeded">active</span> : <span class="badge failed">disabled</span>}
      </div>
      {webhook.disabledReason && <span class="muted">Disabled: {webhook.disabledReason}</span>}
      <span class="muted">
        {webhook.events.join(", ")} · added {when(webhook.createdAt)}
      </span>
      <div class="row spread">
        <div class="row">
          <button type="button" onClick={sendTest} disabled={!webhook.active}>
            Send test
          </button>
          <button type="button" onClick={() => setOpen(!open)} aria-expanded={open}>
            {open ? "Hide deliveries" : "Deliveries"}
          </button>
        </div>
        <button type="button" class="danger" onClick={remove}>
          Delete
        </button>
      </div>
      <ErrorView error={error} />
      {open && <WebhookDeliveries webhookId={webhook.id} canRedeliver={webhook.active} refresh={refresh} />}
    </li>
  );
}
