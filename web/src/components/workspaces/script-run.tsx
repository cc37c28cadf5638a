import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import type { StreamFrame } from "../../../../shared/stream-frames";
import type { ApiError } from "../../api/api-error";
import { apiErrorOf } from "../../api/api-error";
import { LiveSocket } from "../../api/live-socket";
import { ErrorView } from "../error-view";

type Frame = StreamFrame<"scripts.run">;
type Piece = { stream: "stdout" | "stderr"; data: string };
type Result = Extract<Frame, { type: "end" }>["result"];

/** The pane keeps this many characters of output: a long-running script cannot grow the page forever. */
const KEEP_CHARS = 200_000;

/** Checks a received frame before use: the socket is input like any other. */
function frameOf(text: string): Frame | undefined {
  try {
    const value = JSON.parse(text) as { type?: unknown; data?: { stream?: unknown; data?: unknown } };
    if (value.type === "chunk") {
      const ok =
        (value.data?.stream === "stdout" || value.data?.stream === "stderr") && typeof value.data.data === "string";
      return ok ? (value as Frame) : undefined;
    }
    if (value.type === "end" || value.type === "error") return value as Frame;
  } catch {
    // Not JSON: ignored, like any frame this page does not understand.
  }
  return undefined;
}

const outcome = (result: Result) =>
  result.timedOut
    ? "stopped: it ran past its time limit"
    : result.cancelled
      ? "cancelled"
      : result.exitCode === 0
        ? "finished (exit code 0)"
        : result.exitCode === null
          ? `stopped by ${result.signal ?? "a signal"}`
          : `failed (exit code ${result.exitCode})`;

/**
 * One run of a script, live over the route's WebSocket. Output is text in a <pre> (never HTML),
 * stderr marked, only the last KEEP_CHARS kept. The socket is not reopened when lost: that
 * would run the script a second time.
 */
export function ScriptRun({ workspaceId, name }: { workspaceId: string; name: string }) {
  const pieces = useSignal<Piece[]>([]);
  const result = useSignal<Result>();
  const failure = useSignal<ApiError>();
  const socket = useSignal<LiveSocket>();
  useEffect(() => {
    let kept = 0;
    const live = new LiveSocket({
      url: () => `/api/v1/workspaces/${encodeURIComponent(workspaceId)}/scripts/${encodeURIComponent(name)}/run`,
      reconnect: false,
      onFrame: (text) => {
        const frame = frameOf(text);
        if (frame?.type === "chunk") {
          const next = [...pieces.value, frame.data];
          kept += frame.data.data.length;
          while (kept > KEEP_CHARS && next.length > 1) kept -= next.shift()?.data.length ?? 0;
          pieces.value = next;
        } else if (frame?.type === "end") {
          result.value = frame.result;
          live.close();
        } else if (frame?.type === "error") {
          const body = { code: frame.error.code, detail: frame.error.message };
          failure.value = apiErrorOf(new Response(null, { status: 502 }), body);
          live.close();
        }
      },
    });
    socket.value = live;
    return () => live.close();
  }, [workspaceId, name]);
  const live = socket.value;
  const running = !result.value && !failure.value && !live?.refusal.value;
  return (
    <section class="ws-panel ws-run" aria-label={`Run of ${name}`} data-run={name}>
      <h2>
        {name}{" "}
        <span class="muted" role="status" data-outcome>
          {result.value
            ? outcome(result.value)
            : running
              ? live?.status.value === "live"
                ? "running"
                : "starting…"
              : "ended"}
        </span>
      </h2>
      <pre class="ws-output" data-output>
        {pieces.value.map((piece, index) => (
          // Pieces are only ever appended or dropped from the front: the index is stable enough.
          <span key={index} class={piece.stream === "stderr" ? "ws-stderr" : undefined}>
            {piece.data}
          </span>
        ))}
      </pre>
      {!running && !result.value && live?.refusal.value && !failure.value && (
        <p class="muted">
          The connection ended before the script did ({live.refusal.value}); it may still be running on the machine.
        </p>
      )}
      <ErrorView error={failure.value} />
    </section>
  );
}
