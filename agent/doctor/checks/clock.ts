import type { DoctorCheck } from "../../../shared/schemas/doctor";
import { fail, pass, skip, warn } from "../report";

/** Beyond this, times in the dashboard (events, last seen, logs) visibly disagree with the machine's. */
const WARN_SKEW_MS = 30_000;
/** Beyond this, certificates can look not-yet-valid or expired and signed sign-in tokens are refused. */
const FAIL_SKEW_MS = 5 * 60_000;

const SYNC_THE_CLOCK =
  "turn on time synchronisation: sudo timedatectl set-ntp true (Linux), or System Settings → General → " +
  "Date & Time → Set automatically (macOS)";

/**
 * This machine's clock against the server's. `server` is the server's time; `before`/`after`
 * ours around the answer, so the server's lies between them and half the round trip is the
 * uncertainty. `precisionMs` is the source's own (an HTTP Date header has whole seconds).
 */
export function checkClock(
  sample: { serverMs: number; before: number; after: number; precisionMs: number } | undefined,
): DoctorCheck {
  if (!sample) return skip("clock", "not checked: the server's time is unknown (see the server and token lines)");
  const midpoint = (sample.before + sample.after) / 2;
  const skewMs = sample.serverMs - midpoint;
  const uncertaintyMs = (sample.after - sample.before) / 2 + sample.precisionMs;
  const size = Math.abs(skewMs);
  const seconds = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  const direction = skewMs > 0 ? "behind" : "ahead of";
  const detail = `this machine's clock is ${seconds(size)} ${direction} the server's (± ${seconds(uncertaintyMs)})`;
  // Only what the uncertainty cannot explain counts.
  const certain = Math.max(0, size - uncertaintyMs);
  if (certain >= FAIL_SKEW_MS)
    return fail(
      "clock",
      `${detail}: certificates may be refused and times reported to the dashboard are wrong`,
      SYNC_THE_CLOCK,
    );
  if (certain >= WARN_SKEW_MS)
    return warn("clock", `${detail}: times in the dashboard will not match this machine's`, SYNC_THE_CLOCK);
  return pass("clock", detail);
}
