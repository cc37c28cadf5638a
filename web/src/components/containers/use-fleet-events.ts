import { useEffect, useRef } from "preact/hooks";
import type { NumberedFeedEvent } from "../../../../shared/schemas/user-events";
import { LiveSocket } from "../../api/live-socket";

/** The feed events after which the table is out of date: a container or a host changed. */
const CHANGES = new Set<NumberedFeedEvent["type"]>(["container", "host.online", "host.offline", "host.docker"]);

/** The `type` of a feed frame, if it has one (the REST reload that follows reads the real state). */
function typeOf(text: string): unknown {
  try {
    const frame: unknown = JSON.parse(text);
    return typeof frame === "object" && frame !== null && "type" in frame ? frame.type : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Calls `onChange` as soon as the user's live event feed says a container or host changed
 * (started, stopped, went offline…), and once after each reconnect, when events may have been
 * missed. Only the frame's type is read: the caller reloads the state by REST, so no cursor is
 * kept and a frame shape this page does not know is simply not a change.
 */
export function useFleetEvents(onChange: () => void) {
  const latest = useRef(onChange);
  latest.current = onChange;
  useEffect(() => {
    let opened = false;
    const socket = new LiveSocket({
      url: () => "/api/v1/ws/events",
      onOpen: () => {
        if (opened) latest.current();
        opened = true;
      },
      onFrame: (text) => {
        if (CHANGES.has(typeOf(text) as NumberedFeedEvent["type"])) latest.current();
      },
    });
    return () => socket.close();
  }, []);
}
