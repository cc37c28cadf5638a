import { useState } from "preact/hooks";
import { type ApiError, asApiError } from "../api/api-error";
import { api, call } from "../api/client";
import type { components } from "../api/schema";
import type { HostLive } from "../state/live-feed";
import { ErrorView } from "./error-view";
import { HostStats } from "./machines/host-stats";
import { OutdatedAgent } from "./machines/outdated-agent";
import { field, useSubmit } from "./submit";
import { when } from "./when";

type Host = components["schemas"]["Host"];

interface Props {
  host: Host;
  /** What the live feed said of it: stats. */
  live?: HostLive | undefined;
  pendingApprovals?: number;
  onChanged: () => void;
}

/** One machine: online or when last seen, its versions, live stats and approvals waiting; rename and revoke. */
export function HostItem({ host, live, pendingApprovals = 0, onChanged }: Props) {
  const [renaming, setRenaming] = useState(false);
  const [error, setError] = useState<ApiError>();
  const rename = useSubmit(async (form) => {
    const body = { name: field(form, "name") };
    await call(api.PATCH("/api/hosts/{id}", { params: { path: { id: host.id } }, body }));
    setRenaming(false);
    onChanged();
  });
  const revoke = async () => {
    if (!window.confirm(`Revoke "${host.name}"? Its agent is disconnected and its token stops working.`)) return;
    try {
      await call(api.DELETE("/api/hosts/{id}", { params: { path: { id: host.id } } }));
      onChanged();
    } catch (failure) {
      setError(asApiError(failure));
    }
  };
  const versions = [
    host.agentVersion && `kai-agent ${host.agentVersion}`,
    host.dockerVersion && `Docker ${host.dockerVersion}`,
    host.dockerOk === false && "Docker not reachable",
    host.os && `${host.os}${host.arch ? ` ${host.arch}` : ""}`,
  ].filter(Boolean);
  return (
    <li class="card" data-host={host.name}>
      <div class="row">
        <a class="host-link" href={`/machines/${host.id}`}>
          <strong>{host.name}</strong>
        </a>
        <span class={host.online ? "online" : "offline"} data-state>
          {host.online ? "online" : "offline"}
        </span>
        {!host.online && <span class="muted">last seen {when(host.lastSeenAt)}</span>}
      </div>
      {versions.length > 0 && <span class="muted">{versions.join(" · ")}</span>}
      {host.outdated && <OutdatedAgent version={host.agentVersion} latest={host.latestAgentVersion} />}
      {pendingApprovals > 0 && (
        <span class="approvals-pending" data-approvals={pendingApprovals}>
          {pendingApprovals} {pendingApprovals === 1 ? "approval" : "approvals"} waiting
        </span>
      )}
      <HostStats live={live} online={host.online} />
      {renaming ? (
        <form onSubmit={rename.run}>
          <label>
            New name
            <input name="name" required maxLength={64} value={host.name} />
          </label>
          <div class="row">
            <button class="primary" type="submit" disabled={rename.busy}>
              Save
            </button>
            <button type="button" onClick={() => setRenaming(false)}>
              Cancel
            </button>
          </div>
          <ErrorView error={rename.error} />
        </form>
      ) : (
        <div class="row spread">
          <button type="button" onClick={() => setRenaming(true)}>
            Rename
          </button>
          <button type="button" class="danger" onClick={revoke}>
            Revoke
          </button>
        </div>
      )}
      <ErrorView error={error} />
    </li>
  );
}
