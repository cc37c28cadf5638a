import type { ApiError } from "../api/api-error";
import { CopyButton } from "./copy-button";
import { errorText } from "./error-text";

/** A failed call as a person reads it: what happened, what to do, Kai's own message and the request id. */
export function ErrorView({ error }: { error: ApiError | undefined }) {
  if (!error) return null;
  const { sentence, todo } = errorText(error.code);
  return (
    <div class="error" role="alert" data-code={error.code}>
      <strong>{sentence}</strong>
      <span>{todo}</span>
      <span class="muted">{error.message}</span>
      {error.requestId && (
        <div class="row">
          <code>{error.requestId}</code>
          <CopyButton text={error.requestId} label="Copy request id" />
        </div>
      )}
    </div>
  );
}
