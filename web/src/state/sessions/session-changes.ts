import { signal } from "@preact/signals";

/**
 * The newest agent-session event of the user's feed (started, status, turn completed, ended,
 * failed, approvals): pages that show a session's row reload it when it names theirs. `count`
 * makes each event a new value, even for the same session twice.
 */
export const sessionChange = signal<{ sessionId: string; count: number } | undefined>(undefined);

export function noteSessionChange(sessionId: string): void {
  sessionChange.value = { sessionId, count: (sessionChange.value?.count ?? 0) + 1 };
}
