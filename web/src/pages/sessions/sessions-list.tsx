import { useEffect } from "preact/hooks";
import { api, call } from "../../api/client";
import { ErrorView } from "../../components/error-view";
import { SessionItem } from "../../components/sessions/session-item";
import { StartSessionForm } from "../../components/sessions/start-session-form";
import { pendingApprovals } from "../../state/sessions/pending-approvals";
import { sessionChange } from "../../state/sessions/session-changes";
import { usePlaces } from "../../state/sessions/use-places";
import { useResource } from "../../state/use-resource";
import "./sessions.css";

/** Your agent sessions, newest first (kept live by the event feed), and starting a new one. */
export function SessionsList() {
  const sessions = useResource(
    async () => (await call(api.GET("/api/v1/agent-sessions", { params: { query: { limit: 100 } } }))).sessions,
  );
  const places = usePlaces();
  // Live: a session started, changed status or ended anywhere (the user's event feed).
  const change = sessionChange.value;
  useEffect(() => {
    if (change) void sessions.reload();
  }, [change, sessions.reload]);
  const pendingBySession = new Map<string, number>();
  for (const approval of pendingApprovals.value ?? []) {
    pendingBySession.set(approval.session_id, (pendingBySession.get(approval.session_id) ?? 0) + 1);
  }
  return (
    <>
      <h1>Agent sessions</h1>
      <ErrorView error={sessions.error ?? places.error} />
      {sessions.loading && !sessions.data && <p class="muted">Loading…</p>}
      <ul class="list" aria-label="Agent sessions">
        {sessions.data?.map((session) => (
          <SessionItem
            key={session.id}
            session={session}
            places={places.data}
            pending={pendingBySession.get(session.id) ?? 0}
          />
        ))}
      </ul>
      {sessions.data?.length === 0 && <p class="muted">No session yet: start the first one below.</p>}
      <h2>Start a session</h2>
      {places.data ? <StartSessionForm places={places.data} /> : <p class="muted">Loading…</p>}
    </>
  );
}
