import { LAUNCHD_LABEL } from "./paths";
import type { ServiceSpec } from "./systemd-unit";

/**
 * Seconds launchd waits before starting the job again. launchd has no RestartPreventExitStatus:
 * after a final ending (exit 3: token revoked) it starts the agent again anyway, so not too often.
 */
const THROTTLE_SECONDS = 30;

function xml(value: string): string {
  return value.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&quot;");
}

const string = (value: string) => `<string>${xml(value)}</string>`;

/**
 * The text of `~/Library/LaunchAgents/dev.kai.agent.plist`: started at login (RunAtLoad),
 * started again after a failure (KeepAlive.SuccessfulExit false) but not after a clean stop,
 * stdout and stderr appended to `logFile`.
 */
export function launchdPlist(spec: ServiceSpec, logFile: string): string {
  const args = [spec.node, spec.bundle, "--config", spec.config].map((arg) => `    ${string(arg)}`);
  const environment = Object.entries(spec.environment);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
    '<plist version="1.0">',
    "<dict>",
    `  <key>Label</key>${string(LAUNCHD_LABEL)}`,
    "  <key>ProgramArguments</key>",
    "  <array>",
    ...args,
    "  </array>",
    ...(environment.length
      ? [
          "  <key>EnvironmentVariables</key>",
          "  <dict>",
          ...environment.map(([name, value]) => `    <key>${xml(name)}</key>${string(value)}`),
          "  </dict>",
        ]
      : []),
    "  <key>RunAtLoad</key><true/>",
    "  <key>KeepAlive</key>",
    "  <dict>",
    "    <key>SuccessfulExit</key><false/>",
    "  </dict>",
    `  <key>ThrottleInterval</key><integer>${THROTTLE_SECONDS}</integer>`,
    "  <key>ProcessType</key><string>Background</string>",
    `  <key>StandardOutPath</key>${string(logFile)}`,
    `  <key>StandardErrorPath</key>${string(logFile)}`,
    "</dict>",
    "</plist>",
    "",
  ].join("\n");
}
