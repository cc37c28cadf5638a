import { useState } from "preact/hooks";
import { api, call } from "../api/client";
import type { components } from "../api/schema";
import { ErrorView } from "../components/error-view";
import { SecretOnce } from "../components/secret-once";
import { field, useSubmit } from "../components/submit";
import { TokenItem } from "../components/token-item";
import { currentUser } from "../state/session";
import { useResource } from "../state/use-resource";

type CreatedToken = components["schemas"]["CreatedApiToken"];

/** Who you are, and your personal API tokens: create (the secret is shown once), list, revoke. */
export function Account() {
  const tokens = useResource(async () => (await call(api.GET("/api/tokens"))).data.tokens);
  const [created, setCreated] = useState<CreatedToken>();
  const create = useSubmit(async (form) => {
    const answer = await call(api.POST("/api/tokens", { body: { name: field(form, "name") } }));
    setCreated(answer.data);
    (document.getElementById("token-name") as HTMLInputElement | null)?.form?.reset();
    await tokens.reload();
  });
  return (
    <>
      <h1>Account</h1>
      <p>
        Signed in as <strong>{currentUser.value?.username}</strong>.
      </p>
      <h2>Personal API tokens</h2>
      <p class="muted">For scripts and the API: send one as `Authorization: Bearer …`.</p>
      <form onSubmit={create.run}>
        <label>
          Name
          <input id="token-name" name="name" required maxLength={100} placeholder="CI" />
        </label>
        <button class="primary" type="submit" disabled={create.busy}>
          Create token
        </button>
        <ErrorView error={create.error} />
      </form>
      {created && (
        <SecretOnce label={`Token "${created.name}"`} value={created.token} note="Shown once: store it now." />
      )}
      <ErrorView error={tokens.error} />
      <ul class="list" aria-label="API tokens">
        {tokens.data?.map((token) => (
          <TokenItem key={token.id} token={token} onRevoked={tokens.reload} />
        ))}
      </ul>
      {tokens.data?.length === 0 && <p class="muted">No tokens yet.</p>}
    </>
  );
}
