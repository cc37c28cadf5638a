import { EXIT_CONFIG, EXIT_FINAL } from "../exit-codes";

export interface ServiceSpec {
  /** The absolute Node binary (`process.execPath`): a service has no login shell's PATH. */
  node: string;
  /** The absolute installed bundle. */
  bundle: string;
  /** The absolute config file, named in the command so the service reads the same one as the installer. */
  config: string;
  /** Plain settings only: the token stays in the 0600 config, never in a unit others can read. */
  environment: Record<string, string>;
}

/** Seconds between a crash and the next start: long enough not to spin, short enough not to be missed. */
const RESTART_SEC = 5;

/**
 * One word of a unit file, double-quoted by systemd's rules (systemd.syntax, systemd.service
 * "Command lines"): C escapes for `\` and `"`, `%%` for a literal `%` (specifiers), and in
 * command lines `$$` for a literal `$` (variable expansion). Spaces need nothing more.
 */
export function systemdQuote(value: string, options: { commandLine: boolean }): string {
  if (/[\u0000-\u001f\u007f]/.test(value))
    throw new Error(
      `a path with a control character (newline, tab…) cannot go into a unit file: ${JSON.stringify(value)}`,
    );
  let quoted = value.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("%", "%%");
  if (options.commandLine) quoted = quoted.replaceAll("$", "$$$$");
  return `"${quoted}"`;
}

/** The text of `kai-agent.service`, a systemd user unit that runs the installed bundle. */
export function systemdUnit(spec: ServiceSpec): string {
  const command = [spec.node, spec.bundle, "--config", spec.config]
    .map((word) => systemdQuote(word, { commandLine: true }))
    .join(" ");
  const environment = Object.entries(spec.environment).map(
    ([name, value]) => `Environment=${systemdQuote(`${name}=${value}`, { commandLine: false })}`,
  );
  return [
    "# Written by `kai-agent service install`; `kai-agent service uninstall` removes it.",
    "[Unit]",
    "Description=Kai agent: connects this machine to Kai",
    "",
    "[Service]",
    "Type=simple",
    `ExecStart=${command}`,
    ...environment,
    "Restart=on-failure",
    `RestartSec=${RESTART_SEC}`,
    `# ${EXIT_CONFIG}: the configuration is wrong; ${EXIT_FINAL}: the edge ended this agent for good (token`,
    "# revoked, protocol too old). Restarting cannot help either; the journal says what to do.",
    `RestartPreventExitStatus=${EXIT_CONFIG} ${EXIT_FINAL}`,
    "# SIGTERM to kai-agent alone: it stops the coding agents it started with their grace period,",
    "# and only what is left after TimeoutStopSec= is killed.",
    "KillMode=mixed",
    "TimeoutStopSec=30",
    "",
    "[Install]",
    "# Started with the user's manager: at login, or at boot with `loginctl enable-linger`.",
    "WantedBy=default.target",
    "",
  ].join("\n");
}
