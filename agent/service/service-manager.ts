import type { ServiceSpec } from "./systemd-unit";

/** What `kai-agent service status` reports. */
export interface ServiceStatus {
  /** The unit or plist file, and whether it exists. */
  file: string;
  installed: boolean;
  /** e.g. "active (running)"; undefined when the manager could not be asked. */
  state?: string;
  running: boolean;
  /** Starts at login and/or boot, in words. */
  startsAt?: string;
  /** How to read the logs. */
  logs: string;
  /** Why the manager could not be asked, with what to do. */
  problem?: string;
}

/** Lines for the user; `ok` false makes the command exit 1. */
export interface Outcome {
  ok: boolean;
  lines: string[];
}

/** One platform's service manager: systemd's user manager on Linux, launchd on macOS. */
export interface ServiceManager {
  name: string;
  install(spec: ServiceSpec): Promise<Outcome>;
  uninstall(): Promise<Outcome>;
  status(): Promise<ServiceStatus>;
  /**
   * Restarts the installed, running service (after an upgrade): `undefined` when none is
   * installed, so the caller says to restart kai-agent by hand.
   */
  restart(): Promise<Outcome | undefined>;
}
