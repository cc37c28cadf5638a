import { useRoute } from "preact-iso";
import { api, call } from "../../api/client";
import type { LiveStatus } from "../../api/live-socket";
import { ErrorView } from "../../components/error-view";
import { LogView } from "../../components/logs/log-view";
import { useLogFollow } from "../../components/logs/use-log-follow";
import { useResource } from "../../state/use-resource";
import "./service-logs.css";

const STATUS_TEXT: Record<LiveStatus, string> = {
  connecting: "Connecting…",
  live: "Live",
  reconnecting: "Connection lost: reconnecting…",
  offline: "No network: waiting for it to return",
  closed: "Not following",
};

/**
 * `/logs/:host/:id`: a service's (container's) log, followed live. The service is looked up
 * first: a host that is offline or a service that does not exist shows why, and no stream opens.
 */
export function ServiceLogs() {
  const { host = "", id = "" } = useRoute().params;
  const service = useResource(async () => {
    const answer = await call(api.GET("/api/services/{id}", { params: { path: { id }, query: { host } } }));
    return answer.data;
  });
  const follow = useLogFollow(host, id, service.data !== undefined);
  const status = follow.ended.value
    ? "The container stopped: its log ends here"
    : follow.error.value
      ? "The stream stopped"
      : STATUS_TEXT[follow.status.value];
  const stopped = follow.ended.value !== undefined || follow.error.value !== undefined;
  return (
    <>
      <h1 class="logs-title">Logs: {service.data?.name ?? id}</h1>
      <p class="muted logs-host">
        on {host}
        {service.data && ` · ${service.data.status}`}
      </p>
      <ErrorView error={service.error} />
      {service.error && (
        <button type="button" onClick={service.reload} disabled={service.loading}>
          Try again
        </button>
      )}
      {service.loading && !service.data && <p class="muted">Loading…</p>}
      {service.data && (
        <>
          <div class="row logs-status">
            <span class="logs-state" data-state={stopped ? "stopped" : follow.status.value}>
              {status}
            </span>
            {stopped && (
              <button type="button" onClick={follow.resume}>
                Follow again
              </button>
            )}
          </div>
          <ErrorView error={follow.error.value} />
          <LogView store={follow.store} name={`${service.data.name}`} />
        </>
      )}
    </>
  );
}
