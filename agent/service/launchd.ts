import { existsSync } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { replaceFile } from "../replace-file";
import { launchdPlist } from "./launchd-plist";
import { LAUNCHD_LABEL, launchdLogFile, launchdPlistFile } from "./paths";
import { type RunResult, run } from "./run";
import type { Outcome, ServiceManager, ServiceStatus } from "./service-manager";

/**
 * kai-agent as a launchd agent on macOS: `~/Library/LaunchAgents/dev.kai.agent.plist`, loaded
 * into the login session's domain (`gui/UID`) with `launchctl bootstrap`.
 */
export function launchdManager(env: NodeJS.ProcessEnv = process.env): ServiceManager {
  const plistFile = launchdPlistFile(env);
  const logFile = launchdLogFile(env);
  const domain = `gui/${process.getuid?.() ?? 0}`;
  const target = `${domain}/${LAUNCHD_LABEL}`;
  const launchctl = (...args: string[]) => run("launchctl", args, env);
  const logs = `tail -f ${logFile}`;

  return {
    name: "launchd agent",

    async install(spec) {
      const existed = existsSync(plistFile);
      await fs.mkdir(path.dirname(plistFile), { recursive: true });
      await fs.mkdir(path.dirname(logFile), { recursive: true });
      await replaceFile(plistFile, launchdPlist(spec, logFile), { mode: 0o644 });
      // A loaded job keeps its old definition: unload it first (an error here means none was loaded).
      await launchctl("bootout", target);
      const result = await launchctl("bootstrap", domain, plistFile);
      if (result.code !== 0)
        return {
          ok: false,
          lines: [
            `wrote ${plistFile}, but launchctl bootstrap ${domain} failed: ${result.stderr}`,
            "Run it from a login session of this user (not over ssh as another one), " +
              "then kai-agent service install again.",
          ],
        };
      return {
        ok: true,
        lines: [
          `${existed ? "updated" : "installed"} ${plistFile}`,
          `${LAUNCHD_LABEL} is loaded and running; it restarts after a failure and starts at login`,
          `logs: ${logs}`,
        ],
      };
    },

    async uninstall() {
      if (!existsSync(plistFile))
        return { ok: true, lines: [`the service is not installed (no ${plistFile}); nothing to do`] };
      await launchctl("bootout", target);
      await fs.rm(plistFile, { force: true });
      return { ok: true, lines: [`stopped ${LAUNCHD_LABEL} and removed ${plistFile} (its log stays in ${logFile})`] };
    },

    async status(): Promise<ServiceStatus> {
      const installed = existsSync(plistFile);
      const base = { file: plistFile, installed, logs, running: false };
      const result = await launchctl("print", target);
      if (result.code !== 0) return { ...base, state: installed ? "not loaded" : "not installed" };
      const state = /^\s*state = (.+)$/m.exec(result.stdout)?.[1] ?? "unknown";
      const pid = /^\s*pid = (\d+)$/m.exec(result.stdout)?.[1];
      return {
        ...base,
        state: `${state}${pid ? `, pid ${pid}` : ""}`,
        running: state === "running",
        startsAt: "login",
      };
    },

    async restart() {
      if (!existsSync(plistFile)) return undefined;
      const stopped = notLoaded(await launchctl("print", target), domain, plistFile);
      if (stopped) return stopped;
      // -k: kill the running instance first; launchd starts the job again at once.
      const result = await launchctl("kickstart", "-k", target);
      if (result.code !== 0) return { ok: false, lines: [`launchctl kickstart -k ${target} failed: ${result.stderr}`] };
      return { ok: true, lines: [`restarted ${LAUNCHD_LABEL} through launchd; logs: ${logs}`] };
    },
  };
}

/**
 * What an upgrade's restart says instead of restarting, from `launchctl print`'s answer: a job
 * that is installed but not loaded was stopped by hand (`launchctl bootout`), so it stays
 * stopped, as systemd's inactive unit does. Undefined when the job is loaded: restart it.
 */
export function notLoaded(print: RunResult, domain: string, plistFile: string): Outcome | undefined {
  if (print.code === 0) return undefined;
  return {
    ok: true,
    lines: [
      `${LAUNCHD_LABEL} is installed but not loaded (stopped by hand?): ` +
        `start it with launchctl bootstrap ${domain} ${plistFile}`,
    ],
  };
}
