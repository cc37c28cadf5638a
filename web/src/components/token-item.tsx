import { useState } from "preact/hooks";
import { type ApiError, asApiError } from "../api/api-error";
import { api, call } from "../api/client";
import type { components } from "../api/schema";
import { ErrorView } from "./error-view";
import { when } from "./when";

/** One personal API token in the account's list, with its revoke button. */
export function TokenItem({ token, onRevoked }: { token: components["schemas"]["ApiToken"]; onRevoked: () => void }) {
  const [error, setError] = useState<ApiError>();
  const revoke = async () => {
    if (!window.confirm(`Revoke "${token.name}"? Anything using it stops working at once.`)) return;
    try {
      await call(api.DELETE("/api/tokens/{id}", { params: { path: { id: token.id } } }));
      onRevoked();
    } catch (failure) {
      setError(asApiError(failure));
    }
  };
  return (
    <li class="card" data-token={token.name}>
      <div class="row">
        <strong>{token.name}</strong>
        <code>{token.prefix}…</code>
      </div>
      <span class="muted">
        Created {when(token.createdAt)} · last used {when(token.lastUsedAt)} · expires {when(token.expiresAt)}
      </span>
      <div class="row">
        <button type="button" class="danger" onClick={revoke}>
          Revoke
        </button>
      </div>
      <ErrorView error={error} />
    </li>
  );
}
