import { api, call } from "../api/client";
import { EnrollForm } from "../components/enroll-form";
import { ErrorView } from "../components/error-view";
import { HostItem } from "../components/host-item";
import { useResource } from "../state/use-resource";

/** Your enrolled machines (hosts): state, versions, rename, revoke; and enrolling a new one. */
export function Machines() {
  const hosts = useResource(async () => (await call(api.GET("/api/hosts"))).data.hosts);
  return (
    <>
      <h1>Machines</h1>
      <ErrorView error={hosts.error} />
      <ul class="list" aria-label="Machines">
        {hosts.data?.map((host) => (
          <HostItem key={host.id} host={host} onChanged={hosts.reload} />
        ))}
      </ul>
      {hosts.data?.length === 0 && <p class="muted">No machine yet: enroll the first one below.</p>}
      <h2>Enroll a machine</h2>
      <EnrollForm onEnrolled={hosts.reload} />
    </>
  );
}
