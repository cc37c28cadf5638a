import { useState } from "preact/hooks";
import { type ApiError, asApiError } from "../../api/api-error";
import { api, call } from "../../api/client";
import { ErrorView } from "../error-view";

type Action = "start" | "stop" | "restart" | "update" | "delete";

/** What a button says while its action runs, so a slow stop or update shows it is under way. */
const RUNNING_LABEL: Record<Action, string> = {
  start: "Starting…",
  stop: "Stopping…",
  restart: "Restarting…",
  update: "Updating…",
  delete: "Deleting…",
};

/** One call per action; the host goes in the query, since a user with several hosts must name one. */
function perform(action: Action, hostId: string, id: string): Promise<unknown> {
  const params = { path: { id }, query: { host: hostId } };
  switch (action) {
    case "start":
      return call(api.POST("/api/services/{id}/start", { params }));
    case "stop":
      return call(api.POST("/api/services/{id}/stop", { params }));
    case "restart":
      return call(api.POST("/api/services/{id}/restart", { params }));
    case "update":
      return call(api.POST("/api/services/{id}/update", { params }));
    case "delete":
      return call(api.DELETE("/api/flexy/{id}", { params }));
  }
}

interface Props {
  hostId: string;
  /** The container's name (Kai's service id); the API takes a name or an id. */
  id: string;
  running: boolean;
  /** False when the host is offline: every button is off. */
  enabled: boolean;
  /** Delete exists only for Kai's own containers (/api/flexy). */
  deletable: boolean;
  /** Called after an action finished (`ok`) or failed, to show the new state. */
  onDone: (action: Action, ok: boolean) => void;
}

/**
 * Start or stop, restart, update and delete for one container. One action at a time; the
 * running one says so; delete asks first and sits apart from the rest.
 */
export function ServiceActions({ hostId, id, running, enabled, deletable, onDone }: Props) {
  const [busy, setBusy] = useState<Action>();
  const [error, setError] = useState<ApiError>();
  const run = async (action: Action) => {
    if (action === "delete" && !window.confirm(`Delete the container "${id}"? It is stopped and removed.`)) return;
    setBusy(action);
    setError(undefined);
    let ok = false;
    try {
      await perform(action, hostId, id);
      ok = true;
    } catch (failure) {
      setError(asApiError(failure));
    }
    setBusy(undefined);
    onDone(action, ok);
  };
  const button = (action: Action, label: string, extra = "") => (
    <button
      type="button"
      class={extra}
      disabled={!enabled || busy !== undefined}
      aria-busy={busy === action}
      data-action={action}
      onClick={() => run(action)}
    >
      {busy === action ? RUNNING_LABEL[action] : label}
    </button>
  );
  return (
    <div class="service-actions">
      <div class="row">
        {running ? button("stop", "Stop") : button("start", "Start")}
        {button("restart", "Restart")}
        {button("update", "Update")}
        {deletable && button("delete", "Delete", "danger push-apart")}
      </div>
      <ErrorView error={error} />
    </div>
  );
}
