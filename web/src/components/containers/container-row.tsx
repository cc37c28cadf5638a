import type { FleetRow } from "./fleet";
import { percent } from "./format";
import { ServiceActions } from "./service-actions";

/** The page of one container; the host goes first, since names are unique only within a host. */
const servicePath = (hostId: string, id: string) => `/services/${encodeURIComponent(hostId)}/${encodeURIComponent(id)}`;

/**
 * One container in the table. Each cell carries its column name in `data-label`, which the
 * phone layout (containers.css) shows before the value when the rows become cards.
 */
export function ContainerRow({ row, onChanged }: { row: FleetRow; onChanged: () => void }) {
  const { host, service, image, stale } = row;
  const offline = !host.online;
  const running = service.status === "running";
  return (
    <tr data-container={service.name} data-host={host.name} data-status={service.status}>
      <td data-label="Host">
        {host.name}
        {offline && <span class="offline"> offline</span>}
      </td>
      <td data-label="Name">
        <a href={servicePath(host.id, service.id)}>{service.name}</a>
      </td>
      <td data-label="Status">
        <span class={`status status-${service.status}`} data-state>
          {service.status}
        </span>
        {stale && <span class="muted"> (last seen)</span>}
      </td>
      <td data-label="Health">{service.health === "none" ? "—" : service.health}</td>
      <td data-label="Ports">{service.port ?? "—"}</td>
      <td data-label="CPU">{running && !stale ? percent(service.stats.cpu) : "—"}</td>
      <td data-label="Memory">{running && !stale ? percent(service.stats.memory) : "—"}</td>
      <td data-label="Image" class="image-cell">
        {image ?? service.version ?? "—"}
      </td>
      <td data-label="Actions">
        <ServiceActions
          hostId={host.id}
          id={service.id}
          running={running}
          enabled={!offline}
          deletable={image !== null}
          onDone={onChanged}
        />
      </td>
    </tr>
  );
}
