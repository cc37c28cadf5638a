import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { type ApiError, asApiError } from "../../api/api-error";
import { currentUser } from "../../state/session";
import { type Fleet, loadFleet } from "./fleet";
import { useFleetEvents } from "./use-fleet-events";
import { usePoll } from "./use-poll";

/**
 * The last fleet seen in this tab, and whose it was: a page opened again shows it at once, and
 * a host that went offline meanwhile keeps its last known rows (marked, actions off). Another
 * user signing in on the tab never sees it.
 */
let remembered: { user: string | undefined; fleet: Fleet } | undefined;

/** Between refreshes of the table: live CPU and memory without hammering the agents. */
const REFRESH_MS = 5000;

/**
 * The fleet (all hosts' containers): loaded at once, again as soon as the live event feed says
 * something changed, every few seconds for the CPU and memory (the feed carries only per-host
 * totals), and on `reload`.
 */
export function useFleet() {
  const user = currentUser.value?.id;
  const [fleet, setFleet] = useState<Fleet | undefined>(remembered?.user === user ? remembered?.fleet : undefined);
  const [error, setError] = useState<ApiError>();
  const previous = useRef<Fleet | undefined>(fleet);
  const reload = useCallback(async () => {
    try {
      const next = await loadFleet(previous.current);
      previous.current = next;
      remembered = { user: currentUser.value?.id, fleet: next };
      setFleet(next);
      setError(undefined);
    } catch (failure) {
      setError(asApiError(failure));
    }
  }, []);
  useEffect(() => {
    void reload();
  }, [reload]);
  usePoll(reload, REFRESH_MS);
  useFleetEvents(reload);
  return { fleet, error, reload };
}
