import { useState } from "preact/hooks";
import { useRoute } from "preact-iso";
import { type ApiError, asApiError } from "../../api/api-error";
import { api, call } from "../../api/client";
import type { components } from "../../api/schema";
import { ErrorView } from "../../components/error-view";
import { DoctorReportView } from "../../components/machines/doctor-report";
import { when } from "../../components/when";
import { hostsLive } from "../../state/live-feed";
import { withLive } from "../../state/live-hosts";
import { useResource } from "../../state/use-resource";

type DoctorReport = components["schemas"]["DoctorReport"];
type Host = components["schemas"]["Host"];

/** The engine as the agent just answered (null: offline or slow), else as it last reported. */
function dockerText(host: Host, docker: { ok: boolean; version: string | null; error?: string } | null | undefined) {
  if (docker)
    return docker.ok ? (docker.version ?? "running") : `not reachable${docker.error ? `: ${docker.error}` : ""}`;
  if (host.dockerOk === false) return "not reachable";
  return host.dockerVersion ?? "unknown";
}

/**
 * One machine, `/machines/:id`: what Kai knows of it (online, last seen, versions, OS, agent
 * profiles) and "Run checks", which has its connected kai-agent run `kai-agent doctor`; the last
 * run's report shows until then.
 */
export function HostPage() {
  const { params } = useRoute();
  const id = params.id ?? "";
  const loaded = useResource(async () => (await call(api.GET("/api/hosts/{id}", { params: { path: { id } } }))).data);
  const live = hostsLive.value.get(id);
  const host = loaded.data && withLive(loaded.data, live);
  // The last run's report (kept by the edge, so it shows while the machine is offline) until this page runs one.
  const last = useResource(
    async () => (await call(api.GET("/api/hosts/{id}/doctor", { params: { path: { id } } }))).data.report,
  );
  const [ran, setReport] = useState<DoctorReport>();
  const report = ran ?? last.data ?? undefined;
  const [running, setRunning] = useState(false);
  const [error, setError] = useState<ApiError>();
  const runChecks = async () => {
    setRunning(true);
    setError(undefined);
    try {
      setReport((await call(api.POST("/api/hosts/{id}/doctor", { params: { path: { id } } }))).data);
    } catch (failure) {
      setError(asApiError(failure));
    } finally {
      setRunning(false);
    }
  };
  return (
    <>
      <p>
        <a href="/machines">← Machines</a>
      </p>
      <h1>{host?.name ?? "Machine"}</h1>
      <ErrorView error={loaded.error} />
      {!loaded.data && !loaded.error && <p class="muted">Loading…</p>}
      {host && (
        <dl class="host-facts" data-host-page={host.name}>
          <dt>State</dt>
          <dd>
            <span class={host.online ? "online" : "offline"} data-state>
              {host.online ? "online" : "offline"}
            </span>
          </dd>
          <dt>Last seen</dt>
          <dd>{host.online ? "now" : when(host.lastSeenAt)}</dd>
          <dt>kai-agent</dt>
          <dd>{host.agentVersion ?? "never connected"}</dd>
          <dt>Docker</dt>
          <dd>{dockerText(host, loaded.data?.docker)}</dd>
          <dt>System</dt>
          <dd>{host.os ? `${host.os}${host.arch ? ` ${host.arch}` : ""}` : "unknown"}</dd>
          <dt>Coding agents</dt>
          <dd>{host.agentProfiles.map((profile) => profile.name).join(", ") || "none"}</dd>
          <dt>Enrolled</dt>
          <dd>{when(host.createdAt)}</dd>
        </dl>
      )}
      <h2>Checks</h2>
      <p class="muted">
        Runs kai-agent doctor on the machine: server, TLS, token, clock, Docker, policy, coding agents, Node.
        {host && !host.online && " The machine is offline: run kai-agent doctor on it directly."}
      </p>
      <button class="primary" type="button" onClick={runChecks} disabled={running || !host}>
        {running ? "Running checks…" : "Run checks"}
      </button>
      <ErrorView error={error} />
      {report && <DoctorReportView report={report} />}
    </>
  );
}
