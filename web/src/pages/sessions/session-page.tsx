import { useEffect, useMemo, useState } from "preact/hooks";
import { useRoute } from "preact-iso";
import { type ApiError, asApiError } from "../../api/api-error";
import { api, call } from "../../api/client";
import { ErrorView } from "../../components/error-view";
import { Composer } from "../../components/sessions/composer";
import { LiveBadge } from "../../components/sessions/live-badge";
import { SessionStatus } from "../../components/sessions/session-status";
import { TranscriptView } from "../../components/sessions/transcript-view";
import { refreshApprovals } from "../../state/sessions/pending-approvals";
import { sessionChange } from "../../state/sessions/session-changes";
import { SessionStream } from "../../state/sessions/session-stream";
import { openRun, toTranscript } from "../../state/sessions/transcript";
import { usePlaces } from "../../state/sessions/use-places";
import { useResource } from "../../state/use-resource";
import "./sessions.css";

const FINISHED = new Set(["ended", "failed"]);

/** One agent session: its live stream, the message box, cancel, end; approvals inline on tool cards. */
export function SessionPage() {
  const { params } = useRoute();
  const id = params.id ?? "";
  const [stream, setStream] = useState<SessionStream>();
  useEffect(() => {
    const opened = new SessionStream(id, () => void refreshApprovals());
    setStream(opened);
    return () => opened.close();
  }, [id]);
  return stream ? <SessionView id={id} stream={stream} /> : null;
}

function SessionView({ id, stream }: { id: string; stream: SessionStream }) {
  const details = useResource(() => call(api.GET("/api/v1/agent-sessions/{id}", { params: { path: { id } } })));
  const places = usePlaces();
  const [sentRun, setSentRun] = useState<string>();
  const [prompts, setPrompts] = useState<Record<string, string>>({});
  const [error, setError] = useState<ApiError>();
  const messages = stream.messages.value;
  const notices = stream.notices.value;
  const items = useMemo(() => toTranscript(messages, notices), [messages, notices]);
  const last = messages.at(-1);
  const ended = (runId: string) =>
    messages.some((m) => m.run_id === runId && (m.type === "done" || m.type === "error"));
  const running = openRun(messages) !== undefined || (sentRun !== undefined && !ended(sentRun));

  // A turn ended or the session changed: the status, title and usage on the row moved too.
  // The feed names this session too when its status changes without a message (host offline, ended elsewhere).
  const lastEnd = last && (last.type === "done" || last.type === "error") ? last.seq : 0;
  const change = sessionChange.value?.sessionId === id ? sessionChange.value.count : 0;
  useEffect(() => {
    if (lastEnd > 0 || change > 0) void details.reload();
  }, [lastEnd, change, details.reload]);

  const session = details.data;
  const host = session && places.data?.host(session.host_id);
  const workspace = session && places.data?.workspace(session.workspace_id);
  const offline =
    host?.online === false ? `${host.name} is offline: this waits until its kai-agent is back.` : undefined;
  const finished = session && FINISHED.has(session.status) ? "This session has ended." : undefined;
  const composerBlocked = finished ?? offline ?? (running ? "The agent is working on a turn." : undefined);

  const act = async (action: () => Promise<unknown>) => {
    setError(undefined);
    try {
      await action();
      await details.reload();
    } catch (failure) {
      setError(asApiError(failure));
    }
  };
  const cancel = () => act(() => call(api.POST("/api/v1/agent-sessions/{id}/cancel", { params: { path: { id } } })));
  const end = () => {
    if (!window.confirm("End this session? Its agent process is stopped; the conversation cannot continue.")) return;
    void act(() => call(api.DELETE("/api/v1/agent-sessions/{id}", { params: { path: { id } } })));
  };

  return (
    <section class="session-page" data-last-seq={last?.seq ?? 0}>
      <header class="session-head">
        <div class="row">
          <a href="/sessions">Sessions</a>
          <LiveBadge status={stream.socket.status.value} />
        </div>
        <h1>{session?.title ?? "Agent session"}</h1>
        {session && (
          <div class="row session-meta">
            <SessionStatus status={session.status} />
            <span>{workspace?.name ?? "workspace"}</span>
            <span class={host?.online ? "online" : "offline"}>{host?.name ?? session.host_id}</span>
            <span class="muted">{session.profile ?? "default profile"}</span>
          </div>
        )}
        {session?.error && <p class="muted">{session.error}</p>}
      </header>
      <ErrorView error={details.error ?? places.error} />
      <ErrorView error={stream.socket.refusal.value ? undefined : stream.refusal.value} />
      {stream.socket.refusal.value && <p class="error">The stream was refused: {stream.socket.refusal.value}</p>}
      {items.length === 0 && <p class="muted">{session ? "No messages yet: send the first one below." : "Loading…"}</p>}
      <TranscriptView items={items} sessionId={id} blocked={offline} prompts={prompts} />
      <Composer
        sessionId={id}
        blocked={composerBlocked}
        onSent={(runId, message) => {
          setSentRun(runId);
          setPrompts((known) => ({ ...known, [runId]: message }));
        }}
      />
      <div class="session-actions">
        <button type="button" disabled={!running || !!offline} onClick={cancel}>
          Cancel turn
        </button>
        <button type="button" class="danger" disabled={!!finished} onClick={end}>
          End session
        </button>
      </div>
      <ErrorView error={error} />
    </section>
  );
}
