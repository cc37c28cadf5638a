import { existsSync } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { EXIT_CONFIG, EXIT_FINAL } from "../exit-codes";
import { replaceFile } from "../replace-file";
import { SYSTEMD_UNIT, systemdUnitFile, systemdWantsLink } from "./paths";
import { run } from "./run";
import type { ServiceManager, ServiceStatus } from "./service-manager";
import { type ServiceSpec, systemdUnit } from "./systemd-unit";

const LOGS = "journalctl --user -u kai-agent -f";

function userName(env: NodeJS.ProcessEnv): string {
  return env.USER || os.userInfo().username;
}

/** systemd-logind keeps one file per user whose manager runs from boot on (`loginctl enable-linger`). */
function lingers(user: string): boolean {
  return existsSync(path.join("/var/lib/systemd/linger", user));
}

function startsAt(user: string): string {
  return lingers(user)
    ? "login and boot (linger is on)"
    : `login only; to start it at boot without logging in: loginctl enable-linger ${user}`;
}

/** A word as a POSIX shell reads it back, for a command line the user may paste. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;
}

/** What to do when there is no user manager to talk to: said by install, uninstall and status. */
function unreachable(detail: string, user: string, spec?: ServiceSpec): string[] {
  const command = spec ? [spec.node, spec.bundle, "--config", spec.config].map(shellWord).join(" ") : "kai-agent";
  return [
    `systemd's user manager cannot be reached (systemctl --user: ${detail}).`,
    "That happens in containers, as root without a login session, or over ssh without a session. Either:",
    "  - log in with a session where `systemctl --user status` works (an admin can run " +
      `\`loginctl enable-linger ${user}\` so the manager runs without one), ` +
      "then run kai-agent service install again; or",
    `  - run kai-agent under your own supervisor: ${command}`,
    `    restart it when it exits 1; not after exit ${EXIT_CONFIG} (configuration) ` +
      `or ${EXIT_FINAL} (token revoked, protocol too old).`,
  ];
}

/** kai-agent as a systemd user unit: `~/.config/systemd/user/kai-agent.service`. */
export function systemdManager(env: NodeJS.ProcessEnv = process.env): ServiceManager {
  const unitFile = systemdUnitFile(env);
  const user = userName(env);
  const systemctl = (...args: string[]) => run("systemctl", ["--user", ...args], env);
  const reach = async () => {
    const result = await systemctl("show-environment");
    return result.code === 0 ? undefined : result.stderr.split("\n")[0] || `exit code ${result.code}`;
  };
  const state = async () => {
    const result = await systemctl("show", SYSTEMD_UNIT, "-p", "ActiveState,SubState,UnitFileState,MainPID");
    return Object.fromEntries(
      result.stdout
        .split("\n")
        .filter((line) => line.includes("="))
        .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
    ) as Record<string, string | undefined>;
  };

  return {
    name: "systemd user unit",

    async install(spec) {
      // Before anything is written: a unit no manager will ever load is worse than none.
      const problem = await reach();
      if (problem) return { ok: false, lines: [...unreachable(problem, user, spec), "Nothing was written."] };
      const existed = existsSync(unitFile);
      await fs.mkdir(path.dirname(unitFile), { recursive: true });
      await replaceFile(unitFile, systemdUnit(spec), { mode: 0o644 });
      // restart, not start: a reinstall (new bundle path, new node) must take effect now.
      for (const args of [["daemon-reload"], ["enable", SYSTEMD_UNIT], ["restart", SYSTEMD_UNIT]]) {
        const result = await systemctl(...args);
        if (result.code !== 0)
          return {
            ok: false,
            lines: [
              `wrote ${unitFile}, but systemctl --user ${args.join(" ")} failed: ${result.stderr}`,
              `See journalctl --user -u kai-agent -e, fix what it says, then run kai-agent service install again ` +
                "(or kai-agent service uninstall).",
            ],
          };
      }
      return {
        ok: true,
        lines: [
          `${existed ? "updated" : "installed"} ${unitFile}`,
          `${SYSTEMD_UNIT} is enabled and running; it restarts after a failure and starts at ${startsAt(user)}`,
          `logs: ${LOGS}`,
        ],
      };
    },

    async uninstall() {
      const linked = existsSync(systemdWantsLink(env));
      if (!existsSync(unitFile) && !linked)
        return { ok: true, lines: [`the service is not installed (no ${unitFile}); nothing to do`] };
      const problem = await reach();
      if (problem) {
        // Still remove the files: the user asked for them gone, and a manager that comes back won't start it.
        await fs.rm(systemdWantsLink(env), { force: true });
        await fs.rm(unitFile, { force: true });
        return {
          ok: true,
          lines: [
            `removed ${unitFile}`,
            `systemd's user manager cannot be reached (${problem}), so nothing was stopped: a kai-agent it ` +
              "still runs stops at logout, or with systemctl --user stop kai-agent from a session.",
          ],
        };
      }
      // disable --now: stop and unlink in one step; errors for a unit already gone do not matter.
      await systemctl("disable", "--now", SYSTEMD_UNIT);
      await fs.rm(systemdWantsLink(env), { force: true });
      await fs.rm(unitFile, { force: true });
      await systemctl("daemon-reload");
      await systemctl("reset-failed", SYSTEMD_UNIT);
      return { ok: true, lines: [`stopped and disabled ${SYSTEMD_UNIT}, removed ${unitFile}`] };
    },

    async status(): Promise<ServiceStatus> {
      const installed = existsSync(unitFile);
      const base = { file: unitFile, installed, logs: LOGS, running: false };
      const problem = await reach();
      if (problem) return { ...base, problem: unreachable(problem, user).join("\n") };
      const { ActiveState, SubState, UnitFileState, MainPID } = await state();
      const pid = MainPID && MainPID !== "0" ? `, pid ${MainPID}` : "";
      return {
        ...base,
        state: `${ActiveState ?? "unknown"} (${SubState ?? "unknown"}), ${UnitFileState || "not installed"}${pid}`,
        running: ActiveState === "active",
        ...(installed ? { startsAt: startsAt(user) } : {}),
      };
    },

    async restart() {
      if (!existsSync(unitFile)) return undefined;
      const problem = await reach();
      if (problem)
        return {
          ok: false,
          lines: [
            `${SYSTEMD_UNIT} is installed but systemd's user manager cannot be reached (${problem}): ` +
              "restart it from a login session with systemctl --user restart kai-agent",
          ],
        };
      const { ActiveState } = await state();
      // Stopped by hand: leave it stopped. Failed (say, exit 3 because the edge no longer speaks
      // the old protocol) is started again: the upgrade may be exactly what it needed.
      if (ActiveState === "inactive")
        return {
          ok: true,
          lines: [
            `${SYSTEMD_UNIT} is installed but not running (${ActiveState}): ` +
              "start it with systemctl --user start kai-agent",
          ],
        };
      const result = await systemctl("restart", SYSTEMD_UNIT);
      if (result.code !== 0)
        return {
          ok: false,
          lines: [`systemctl --user restart kai-agent failed: ${result.stderr}; see journalctl --user -u kai-agent -e`],
        };
      return { ok: true, lines: [`restarted ${SYSTEMD_UNIT} through systemd; logs: ${LOGS}`] };
    },
  };
}
