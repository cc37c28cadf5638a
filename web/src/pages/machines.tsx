import { useEffect } from "preact/hooks";
import { api, call } from "../api/client";
import { listHosts } from "../api/lists";
import { EnrollForm } from "../components/enroll-form";
import { ErrorView } from "../components/error-view";
import { HostItem } from "../components/host-item";
import { InstallLine } from "../components/machines/install-line";
import { approvalChanges, feedResets, hostsLive } from "../state/live-feed";
import { pendingByHost, withLive } from "../state/live-hosts";
import { useResource } from "../state/use-resource";
import "../components/machines/machines.css";

/**
 * Your enrolled machines (hosts), live: online state, last seen, versions, container counts,
 * CPU and memory, pending approvals (REST first, then the event feed); rename, revoke; enroll.
 */
export function Machines() {
  const hosts = useResource(listHosts);
  const approvals = useResource(async () => (await call(api.GET("/api/v1/approvals"))).approvals);
  const live = hostsLive.value;
  const resets = feedResets.value;
  // The feed could not replay what was missed: what REST said may be stale, so read it again.
  useEffect(() => {
    if (resets === 0) return;
    void hosts.reload();
    void approvals.reload();
  }, [resets, hosts.reload, approvals.reload]);
  // A host the list does not have yet came online (enrolled elsewhere): read the list again.
  const listed = new Set(hosts.data?.map((host) => host.id));
  const unknown = hosts.data !== undefined && [...live].some(([id, state]) => state.online && !listed.has(id));
  useEffect(() => {
    if (unknown) void hosts.reload();
  }, [unknown, hosts.reload]);
  const pending = pendingByHost(approvals.data ?? [], approvalChanges.value);
  return (
    <>
      <h1>Machines</h1>
      <ErrorView error={hosts.error} />
      <ErrorView error={approvals.error} />
      {hosts.loading && !hosts.data && <p class="muted">Loading…</p>}
      <ul class="list" aria-label="Machines">
        {hosts.data?.map((host) => (
          <HostItem
            key={host.id}
            host={withLive(host, live.get(host.id))}
            live={live.get(host.id)}
            pendingApprovals={pending.get(host.id) ?? 0}
            onChanged={hosts.reload}
          />
        ))}
      </ul>
      {hosts.data?.length === 0 && <p class="muted">No machine yet: add the first one below.</p>}
      <h2>Add a machine</h2>
      <InstallLine />
      <h3>Or enroll it by name and paste a token</h3>
      <EnrollForm onEnrolled={hosts.reload} />
    </>
  );
}
