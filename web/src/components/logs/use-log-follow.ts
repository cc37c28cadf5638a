import { type Signal, useSignal } from "@preact/signals";
import { useEffect, useMemo } from "preact/hooks";
import { ApiError } from "../../api/api-error";
import { LiveSocket, type LiveStatus } from "../../api/live-socket";
import { FollowCursor } from "./follow-cursor";
import { readLogFrame } from "./log-frame";
import { LogStore } from "./log-store";

/** Earlier lines the first socket asks for (the route's most). */
const INITIAL_LINES = 10_000;

/** A followed service log: its lines, how the socket stands, why it ended, and a way to follow again. */
export interface LogFollow {
  store: LogStore;
  status: Signal<LiveStatus>;
  /** The stream's end: "container-stopped" when the service stopped, else undefined while following. */
  ended: Signal<string | undefined>;
  /** Why the stream stopped with an error, or the server refused it for good. */
  error: Signal<ApiError | undefined>;
  /** Follows again after an end or error, from where the lines stopped (no repeats). */
  resume: () => void;
}

/**
 * Follows `/api/services/{id}/logs/follow` on `host` through one LiveSocket while `enabled`:
 * reconnects resume from the last line's timestamp and skip what was already received
 * (FollowCursor). The store and cursor live as long as the page shows this host and service.
 */
export function useLogFollow(host: string, id: string, enabled: boolean): LogFollow {
  const store = useMemo(() => new LogStore(), [host, id]);
  const cursor = useMemo(() => new FollowCursor(INITIAL_LINES), [host, id]);
  const status = useSignal<LiveStatus>("connecting");
  const ended = useSignal<string | undefined>(undefined);
  const error = useSignal<ApiError | undefined>(undefined);
  const attempt = useSignal(0);

  useEffect(() => {
    if (!enabled || ended.peek() || error.peek()) return;
    const path = `/api/services/${encodeURIComponent(id)}/logs/follow?host=${encodeURIComponent(host)}`;
    const socket = new LiveSocket({
      url: () => `${path}&${cursor.query()}`,
      onOpen: () => cursor.opened(),
      onFrame: (text) => {
        const frame = readLogFrame(text);
        if (frame?.type === "chunk" && cursor.accept(frame.seq, frame.entry)) store.append(frame.entry);
        if (frame?.type === "end") {
          ended.value = frame.ended;
          socket.close();
        }
        if (frame?.type === "error") {
          error.value = new ApiError(frame.error.code, frame.error.message, 0, null);
          socket.close();
        }
      },
    });
    const unsubscribe = socket.status.subscribe((value) => {
      status.value = value;
    });
    const unsubscribeRefusal = socket.refusal.subscribe((reason) => {
      if (reason) error.value = new ApiError("PERMISSION_DENIED", reason, 0, null);
    });
    return () => {
      unsubscribe();
      unsubscribeRefusal();
      socket.close();
    };
  }, [host, id, enabled, attempt.value]);

  const resume = () => {
    ended.value = undefined;
    error.value = undefined;
    attempt.value += 1;
  };
  return { store, status, ended, error, resume };
}
