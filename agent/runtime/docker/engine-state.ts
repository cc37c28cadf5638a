import type Docker from "dockerode";
import type { HelloFrame } from "../../../shared/protocol";
import { engineVersion } from "./engine-version";

/** The engine's state as the hello and the periodic Docker-state report carry it; not ok past `timeoutMs`. */
export async function engineState(docker: Docker, timeoutMs: number): Promise<HelloFrame["docker"]> {
  try {
    const version = await engineVersion(docker, timeoutMs);
    return { ok: true, version: version.Version };
  } catch {
    return { ok: false, version: null };
  }
}
