/**
 * The one line that installs kai-agent from the Kai at `origin` (its `/install.sh`); `flags` go
 * to the script (e.g. `--with-token`). The edge shows it on enroll, the agent when it must be
 * reinstalled, and `GET /api/install` gives it to the dashboard.
 */
export function installLine(origin: string, flags = ""): string {
  return `curl -fsSL ${origin}/install.sh | sh${flags ? ` -s -- ${flags}` : ""}`;
}
