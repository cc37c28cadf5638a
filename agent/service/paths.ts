import os from "node:os";
import path from "node:path";

/** The systemd user unit's name, the same on every Linux machine (install.sh and doctor name it too). */
export const SYSTEMD_UNIT = "kai-agent.service";
/** The launchd job's label on macOS. */
export const LAUNCHD_LABEL = "dev.kai.agent";

function home(env: NodeJS.ProcessEnv): string {
  return env.HOME || os.homedir();
}

/** `${XDG_CONFIG_HOME:-~/.config}/systemd/user/kai-agent.service`: where systemd looks for a user's own units. */
export function systemdUnitFile(env: NodeJS.ProcessEnv = process.env): string {
  const config = env.XDG_CONFIG_HOME || path.join(home(env), ".config");
  return path.join(config, "systemd", "user", SYSTEMD_UNIT);
}

/** `systemctl --user enable` links the unit here (WantedBy=default.target). */
export function systemdWantsLink(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(path.dirname(systemdUnitFile(env)), "default.target.wants", SYSTEMD_UNIT);
}

export function launchdPlistFile(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(home(env), "Library", "LaunchAgents", `${LAUNCHD_LABEL}.plist`);
}

/** launchd keeps no log of its own for a job: the plist sends stdout and stderr here. */
export function launchdLogFile(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(home(env), "Library", "Logs", "kai-agent.log");
}
