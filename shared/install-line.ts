/**
 * The one line that installs kai-agent from the Kai at `origin` (its `/install.sh`); `flags` go
 * to the script (e.g. `--with-token`). The edge shows it on enroll, the agent when it must be
 * reinstalled; the dashboard builds the same line from its own origin (web/ imports no values
 * from shared/).
 */
export function installLine(origin: string, flags = ""): string {
  return `curl -fsSL ${origin}/install.sh | sh${flags ? ` -s -- ${flags}` : ""}`;
}
