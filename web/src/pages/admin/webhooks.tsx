import { useState } from "preact/hooks";
import { api, call } from "../../api/client";
import type { components } from "../../api/schema";
import { WebhookForm } from "../../components/admin/webhook-form";
import { WebhookItem } from "../../components/admin/webhook-item";
import { ErrorView } from "../../components/error-view";
import { SecretOnce } from "../../components/secret-once";
import { useResource } from "../../state/use-resource";
import "./admin.css";

type Created = components["schemas"]["CreatedWebhook"];

/** Your webhooks: add one (its generated signing secret shown once), test, delivery logs, delete. */
export function Webhooks() {
  const webhooks = useResource(async () => (await call(api.GET("/api/webhooks"))).data);
  const [created, setCreated] = useState<Created>();
  const onCreated = (answer: Created) => {
    setCreated(answer);
    void webhooks.reload();
  };
  return (
    <>
      <h1>Webhooks</h1>
      <p class="muted">
        Kai signs every request as Standard Webhooks (<code>webhook-id</code>, <code>webhook-timestamp</code>,{" "}
        <code>webhook-signature</code>); verify it with your signing secret.
      </p>
      <ErrorView error={webhooks.error} />
      {webhooks.loading && !webhooks.data && <p class="muted">Loading…</p>}
      <ul class="list" aria-label="Webhooks">
        {webhooks.data?.map((webhook) => (
          <WebhookItem key={webhook.id} webhook={webhook} onDeleted={webhooks.reload} />
        ))}
      </ul>
      {webhooks.data?.length === 0 && <p class="muted">No webhook yet: add the first one below.</p>}
      <h2>Add a webhook</h2>
      {created?.secret && (
        <SecretOnce
          label={`Signing secret for ${created.url}`}
          value={created.secret}
          note="Shown once: store it with your receiver now."
        />
      )}
      <WebhookForm onCreated={onCreated} />
    </>
  );
}
