import { useState } from "preact/hooks";
import { useLocation } from "preact-iso";
import { api, call } from "../../api/client";
import type { Places } from "../../state/sessions/use-places";
import { ErrorView } from "../error-view";
import { field, useSubmit } from "../submit";

/**
 * Starts a session in a workspace with one of its host's profiles (the host's policy lists
 * them; its default is preselected) and an optional first message, then opens it.
 */
export function StartSessionForm({ places }: { places: Places }) {
  const { route } = useLocation();
  const [workspaceId, setWorkspaceId] = useState(places.workspaces[0]?.id ?? "");
  const host = places.host(places.workspace(workspaceId)?.hostId ?? "");
  const profiles = host?.agentProfiles ?? [];
  const start = useSubmit(async (form) => {
    const message = field(form, "message").trim();
    const profile = field(form, "profile");
    const created = await call(
      api.POST("/api/v1/agent-sessions", {
        body: { workspace_id: workspaceId, ...(profile ? { profile } : {}), ...(message ? { message } : {}) },
      }),
    );
    route(`/sessions/${created.id}`);
  });
  if (places.workspaces.length === 0) {
    return <p class="muted">No workspace yet: add a project directory of a machine to the catalog first.</p>;
  }
  const blocked = !host
    ? "Pick a workspace."
    : !host.online
      ? `${host.name} is offline: start its kai-agent first.`
      : profiles.length === 0
        ? `${host.name} allows no coding agent: list one in its kai-agent policy file.`
        : undefined;
  return (
    <form class="start-session" onSubmit={start.run}>
      <label>
        Workspace
        <select name="workspace" value={workspaceId} onChange={(event) => setWorkspaceId(event.currentTarget.value)}>
          {places.workspaces.map((workspace) => (
            <option key={workspace.id} value={workspace.id}>
              {workspace.name} — {places.host(workspace.hostId)?.name ?? "unknown machine"}
            </option>
          ))}
        </select>
      </label>
      <label>
        Agent profile
        <select name="profile" key={host?.id} disabled={profiles.length === 0}>
          {profiles.map((profile) => (
            <option key={profile.name} value={profile.name} selected={profile.default}>
              {profile.name} ({profile.command}){profile.default ? " · default" : ""}
            </option>
          ))}
        </select>
      </label>
      <label>
        First message (optional)
        <textarea name="message" rows={3} maxLength={8000} />
      </label>
      {blocked && <p class="muted">{blocked}</p>}
      <button class="primary" type="submit" disabled={start.busy || !!blocked}>
        Start session
      </button>
      <ErrorView error={start.error} />
    </form>
  );
}
