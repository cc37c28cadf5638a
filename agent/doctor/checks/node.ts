import type { DoctorCheck } from "../../../shared/schemas/doctor";
import { fail, pass } from "../report";

/** The oldest Node kai-agent runs on: package.json's `engines` (a unit test keeps the two equal). */
export const MIN_NODE_VERSION = "20.19";

const parts = (version: string) => version.split(".").map((part) => Number.parseInt(part, 10) || 0);

/** Whether `version` (e.g. "20.19.2") is at least `minimum` (e.g. "20.19"). */
export function atLeast(version: string, minimum: string): boolean {
  const have = parts(version);
  const need = parts(minimum);
  for (let i = 0; i < need.length; i += 1) {
    const a = have[i] ?? 0;
    const b = need[i] ?? 0;
    if (a !== b) return a > b;
  }
  return true;
}

export function checkNode(version: string = process.versions.node): DoctorCheck {
  if (atLeast(version, MIN_NODE_VERSION))
    return pass("node", `Node ${version} (kai-agent needs ${MIN_NODE_VERSION} or newer), at ${process.execPath}`);
  return fail(
    "node",
    `Node ${version} is too old: kai-agent needs ${MIN_NODE_VERSION} or newer`,
    "install a current Node LTS (https://nodejs.org, or your package manager / nvm), then run the installer again " +
      "so the launcher uses it",
  );
}
