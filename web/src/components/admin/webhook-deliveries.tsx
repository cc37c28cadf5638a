import { useEffect, useState } from "preact/hooks";
import { type ApiError, asApiError } from "../../api/api-error";
import { api, call } from "../../api/client";
import type { components } from "../../api/schema";
import { useResource } from "../../state/use-resource";
import { ErrorView } from "../error-view";
import { when } from "../when";

type Delivery = components["schemas"]["WebhookDelivery"];
/** Deliveries have no live feed: while one is pending, the log is read again this often. */
const PENDING_POLL_MS = 2000;

/**
 * A webhook's recent deliveries: event, status, attempts, the last response code and time;
 * redeliver one. `refresh` changes when the page queued a delivery (a test) to be shown.
 */
export function WebhookDeliveries(props: { webhookId: string; canRedeliver: boolean; refresh: number }) {
  const { webhookId, canRedeliver, refresh } = props;
  const deliveries = useResource(
    async () => (await call(api.GET("/api/webhooks/{id}/deliveries", { params: { path: { id: webhookId } } }))).data,
  );
  const pending = deliveries.data?.some((delivery) => delivery.status === "pending") ?? false;
  // `refresh` changing (a test was queued) is the signal to read again.
  useEffect(() => {
    if (refresh > 0) void deliveries.reload();
  }, [refresh, deliveries.reload]);
  useEffect(() => {
    if (!pending) return;
    const timer = setTimeout(deliveries.reload, PENDING_POLL_MS);
    return () => clearTimeout(timer);
  }, [pending, deliveries.data, deliveries.reload]);
  return (
    <div class="deliveries">
      <div class="row">
        <strong>Deliveries</strong>
        <button type="button" onClick={deliveries.reload} disabled={deliveries.loading}>
          {deliveries.loading ? "Loading…" : "Refresh"}
        </button>
      </div>
      <ErrorView error={deliveries.error} />
      {deliveries.data?.length === 0 && <p class="muted">No deliveries yet: send a test.</p>}
      <ul class="list" aria-label="Deliveries">
        {deliveries.data?.map((delivery) => (
          <DeliveryRow
            key={delivery.id}
            webhookId={webhookId}
            delivery={delivery}
            canRedeliver={canRedeliver}
            onQueued={deliveries.reload}
          />
        ))}
      </ul>
    </div>
  );
}

function DeliveryRow(props: { webhookId: string; delivery: Delivery; canRedeliver: boolean; onQueued: () => void }) {
  const { delivery } = props;
  const [error, setError] = useState<ApiError>();
  const [busy, setBusy] = useState(false);
  const last = delivery.attempts.at(-1);
  const redeliver = async () => {
    setBusy(true);
    setError(undefined);
    try {
      const path = { id: props.webhookId, deliveryId: delivery.id };
      await call(api.POST("/api/webhooks/{id}/deliveries/{deliveryId}/redeliver", { params: { path } }));
      props.onQueued();
    } catch (failure) {
      setError(asApiError(failure));
    } finally {
      setBusy(false);
    }
  };
  return (
    <li class="delivery" data-delivery={delivery.id} data-status={delivery.status}>
      <div class="row">
        <code>{delivery.eventType}</code>
        <span class={`badge ${delivery.status}`}>{delivery.status}</span>
        <span class="muted" data-attempts={delivery.attempts.length}>
          {delivery.attempts.length} {delivery.attempts.length === 1 ? "attempt" : "attempts"}
        </span>
      </div>
      <span class="muted">
        {last
          ? `Last: ${last.status ?? "no response"} · ${last.durationMs} ms · ${when(last.attemptedAt)}`
          : `Queued ${when(delivery.createdAt)}`}
        {delivery.nextAttemptAt && delivery.status === "pending" ? ` · next ${when(delivery.nextAttemptAt)}` : ""}
      </span>
      {last?.error && <span class="muted">{last.error}</span>}
      {last?.responseExcerpt && <pre class="excerpt">{last.responseExcerpt}</pre>}
      {props.canRedeliver && delivery.status !== "pending" && (
        <div class="row">
          <button type="button" onClick={redeliver} disabled={busy}>
            Redeliver
          </button>
        </div>
      )}
      <ErrorView error={error} />
    </li>
  );
}
