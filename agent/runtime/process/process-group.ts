/**
 * The agent's one kill policy for a process group it started (detached, so the child leads
 * its own group): SIGTERM to the whole group first, SIGKILL after a grace for whatever is left.
 */

/** Signals every process of the group led by `pid`; false when the group is gone. Signal 0 only asks. */
export function signalProcessGroup(pid: number | undefined, signal: NodeJS.Signals | 0): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false; // ESRCH: the group is gone already
  }
}

/**
 * SIGTERM now, SIGKILL after `graceMs` if any process of the group is still there. Returns the
 * armed timer (unref'd, so it never keeps the agent alive), or undefined when the group was gone.
 */
export function stopProcessGroup(pid: number | undefined, graceMs: number): NodeJS.Timeout | undefined {
  if (!signalProcessGroup(pid, "SIGTERM")) return undefined;
  const timer = setTimeout(() => signalProcessGroup(pid, "SIGKILL"), graceMs);
  timer.unref();
  return timer;
}
