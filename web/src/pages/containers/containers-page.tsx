import { ContainerRow } from "../../components/containers/container-row";
import { useFleet } from "../../components/containers/use-fleet";
import { ErrorView } from "../../components/error-view";
import "./containers.css";

/** Every container on every one of your machines, live, with its actions. */
export function ContainersPage() {
  const { fleet, error, reload } = useFleet();
  const offline = fleet?.hosts.filter((host) => !host.online) ?? [];
  return (
    <>
      <div class="row page-head">
        <h1>Containers</h1>
        <a class="button" href="/containers/new">
          New container
        </a>
      </div>
      <ErrorView error={error} />
      {!fleet && !error && <p class="muted">Loading…</p>}
      {offline.length > 0 && (
        <p class="muted" data-offline-hosts>
          Offline, so not listed live and not controllable: {offline.map((host) => host.name).join(", ")}.
        </p>
      )}
      {fleet?.problems.map(({ host, error: problem }) => (
        <div key={host.id} data-host-problem={host.name}>
          <p>Could not list the containers of {host.name}:</p>
          <ErrorView error={problem} />
        </div>
      ))}
      {fleet?.hosts.length === 0 && (
        <p class="muted">
          No machine yet: <a href="/machines">enroll one</a>, then its containers show here.
        </p>
      )}
      {fleet && fleet.hosts.length > 0 && fleet.rows.length === 0 && (
        <p class="muted">No container yet on your machines.</p>
      )}
      {fleet && fleet.rows.length > 0 && (
        <div class="table-box">
          <table class="containers" aria-label="Containers">
            <thead>
              <tr>
                <th>Host</th>
                <th>Name</th>
                <th>Status</th>
                <th>Health</th>
                <th>Port</th>
                <th>CPU</th>
                <th>Memory</th>
                <th>Image</th>
                <th>Actions</th>
              </tr>
            </thead>
            <tbody>
              {fleet.rows.map((row) => (
                <ContainerRow key={`${row.host.id}/${row.service.id}`} row={row} onChanged={reload} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
