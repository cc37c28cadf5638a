import { api, call } from "../../api/client";
import type { components } from "../../api/schema";
import { ErrorView } from "../error-view";
import { field, useSubmit } from "../submit";
import { WEBHOOK_EVENT_GROUPS, type WebhookEvent } from "./webhook-events";

type Created = components["schemas"]["CreatedWebhook"];

/** Registers a webhook: its URL, the events it gets, and optionally its own signing secret. */
export function WebhookForm({ onCreated }: { onCreated: (created: Created) => void }) {
  const create = useSubmit(async (form) => {
    const events = form.getAll("events").map(String) as WebhookEvent[];
    const secret = field(form, "secret").trim();
    const body = { url: field(form, "url").trim(), events, ...(secret ? { secret } : {}) };
    const answer = await call(api.POST("/api/webhooks", { body }));
    (document.getElementById("webhook-url") as HTMLInputElement | null)?.form?.reset();
    onCreated(answer.data);
  });
  return (
    <form onSubmit={create.run} class="webhook-form" aria-label="Add a webhook">
      <label>
        Endpoint URL
        <input id="webhook-url" name="url" type="url" required maxLength={2048} placeholder="https://example.com/kai" />
      </label>
      {WEBHOOK_EVENT_GROUPS.map((group) => (
        <fieldset key={group.label} class="events">
          <legend>{group.label}</legend>
          {group.events.map((event) => (
            <label key={event} class="check">
              <input type="checkbox" name="events" value={event} />
              <code>{event}</code>
            </label>
          ))}
        </fieldset>
      ))}
      <label>
        Signing secret (optional)
        <input
          name="secret"
          minLength={16}
          maxLength={256}
          autocomplete="off"
          placeholder="Leave empty: Kai makes one"
        />
      </label>
      <button class="primary" type="submit" disabled={create.busy}>
        Add webhook
      </button>
      <ErrorView error={create.error} />
    </form>
  );
}
