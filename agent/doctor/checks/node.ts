import type { DoctorCheck } from "../../../shared/schemas/doctor";
import { atLeast, MIN_NODE_VERSION } from "../../node-version";
import { fail, pass } from "../report";

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
