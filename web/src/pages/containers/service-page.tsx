import { useRef } from "preact/hooks";
import { useLocation, useRoute } from "preact-iso";
import { api, call } from "../../api/client";
import type { components } from "../../api/schema";
import { bytes, duration, percent } from "../../components/containers/format";
import { ServiceActions } from "../../components/containers/service-actions";
import { StatsChart } from "../../components/containers/stats-chart";
import { usePoll } from "../../components/containers/use-poll";
import { useStatsSeries } from "../../components/containers/use-stats-series";
import { ErrorView } from "../../components/error-view";
import { when } from "../../components/when";
import { useResource } from "../../state/use-resource";
import "./containers.css";

type ServiceDetails = components["schemas"]["ServiceDetails"];

/** The log viewer's page for one container (another page owns it): `/logs/<hostId>/<serviceId>`. */
const logsPath = (hostId: string, id: string) => `/logs/${encodeURIComponent(hostId)}/${encodeURIComponent(id)}`;

/** Details are refreshed this often, so a stop made elsewhere shows without a reload. */
const DETAILS_MS = 5000;

/** One container (service) of one host: details, actions, and CPU and memory over time. */
export function ServicePage() {
  const { params } = useRoute();
  const { route } = useLocation();
  const hostId = params.host ?? "";
  const id = params.id ?? "";
  // The host first: an offline one cannot answer, so it is not asked, and the page keeps
  // showing what it last said, with the actions off.
  const last = useRef<ServiceDetails>();
  const view = useResource(async () => {
    const host = (await call(api.GET("/api/hosts/{id}", { params: { path: { id: hostId } } }))).data;
    if (host.online) {
      const query = { host: hostId };
      last.current = (await call(api.GET("/api/services/{id}", { params: { path: { id }, query } }))).data;
    }
    return { host, service: last.current };
  });
  usePoll(view.reload, DETAILS_MS);
  const host = { data: view.data?.host };
  const online = host.data?.online ?? false;
  const service = { data: view.data?.service, error: view.error, reload: view.reload };
  const current = service.data;
  const running = current?.status === "running";
  const stats = useStatsSeries(hostId, id, online && running);
  return (
    <>
      <p>
        <a href="/containers">← Containers</a>
      </p>
      <h1>{id}</h1>
      {host.data && !online && (
        <p class="offline" data-host-offline>
          {host.data.name} is offline: this container cannot be shown live or controlled until its kai-agent connects.
        </p>
      )}
      <ErrorView error={service.error} />
      {!view.data && !view.error && <p class="muted">Loading…</p>}
      {current && (
        <>
          <dl class="facts" data-service={current.name}>
            <dt>Host</dt>
            <dd>{host.data?.name}</dd>
            <dt>Status</dt>
            <dd>
              <span class={`status status-${current.status}`} data-state>
                {current.status}
              </span>
            </dd>
            <dt>Health</dt>
            <dd>{current.health}</dd>
            <dt>Image</dt>
            <dd>{current.details.image}</dd>
            <dt>Created</dt>
            <dd>{when(current.details.created)}</dd>
            <dt>Ports</dt>
            <dd>
              {current.details.ports
                .map((port) => (port.external ? `${port.external} → ${port.internal}` : `${port.internal}`))
                .join(", ") || "—"}
            </dd>
            <dt>Uptime</dt>
            <dd>{duration(current.stats.uptime)}</dd>
            <dt>Restarts</dt>
            <dd>{current.stats.restartCount}</dd>
          </dl>
          <p>
            <a href={logsPath(hostId, current.id)} data-logs-link>
              Logs
            </a>
          </p>
          <ServiceActions
            hostId={hostId}
            id={current.id}
            running={running}
            enabled={online}
            deletable
            onDone={(action, ok) => (action === "delete" && ok ? route("/containers") : void service.reload())}
          />
        </>
      )}
      <h2>CPU and memory</h2>
      {stats.latest && (
        <p class="muted" data-latest-stats>
          CPU {percent(stats.latest.cpu)} · memory {percent(stats.latest.memory)} ({bytes(stats.latest.memoryUsage)} of{" "}
          {bytes(stats.latest.memoryLimit)})
        </p>
      )}
      {!running && current && <p class="muted">Not running: no new samples until it starts.</p>}
      <ErrorView error={stats.error} />
      <StatsChart series={stats.series} />
    </>
  );
}
