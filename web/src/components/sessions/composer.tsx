import { useState } from "preact/hooks";
import { ApiError, asApiError } from "../../api/api-error";
import { api, call } from "../../api/client";
import { ErrorView } from "../error-view";

interface Props {
  sessionId: string;
  /** Why nothing can be sent now (a turn runs, the host is offline, the session ended), if so. */
  blocked?: string;
  /** A turn was accepted: its run id and the message. */
  onSent: (runId: string, message: string) => void;
}

/** The message box: sends one message (one turn at a time), explains a 409 in words. */
export function Composer({ sessionId, blocked, onSent }: Props) {
  const [text, setText] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError>();
  const send = async (event: Event) => {
    event.preventDefault();
    if (busy || blocked || !text.trim()) return;
    setBusy(true);
    setError(undefined);
    try {
      const answer = await call(
        api.POST("/api/v1/agent-sessions/{id}/messages", {
          params: { path: { id: sessionId } },
          body: { message: text },
        }),
      );
      setText("");
      onSent(answer.run_id, text);
    } catch (failure) {
      setError(asApiError(failure));
    } finally {
      setBusy(false);
    }
  };
  const turnRunning = error instanceof ApiError && error.status === 409;
  return (
    <form class="composer" onSubmit={send}>
      <label>
        Message to the agent
        <textarea
          name="message"
          rows={3}
          maxLength={8000}
          value={text}
          onInput={(event) => setText(event.currentTarget.value)}
        />
      </label>
      <div class="row">
        <button type="submit" class="primary" disabled={busy || !!blocked || !text.trim()}>
          Send
        </button>
        {blocked && <span class="muted">{blocked}</span>}
      </div>
      {turnRunning && (
        <p class="muted">
          The agent is still working on a turn (perhaps started from another tab): wait for it to end, or cancel it.
        </p>
      )}
      <ErrorView error={error} />
    </form>
  );
}
