import type Docker from "dockerode";
import type { HelloFrame } from "../../../shared/protocol";
import { engineVersion } from "./engine-version";

/**
 * How long the engine's state may take: the hello waits for it while the connect holds one of
 * the edge's few connect turns, so a hung Docker daemon must not keep the hello (and the turn)
 * waiting. Past it the state is reported as not ok, which the periodic report corrects later.
 */
const ENGINE_STATE_TIMEOUT_MS = 2_500;

/** The engine's state as the hello and the periodic Docker-state report carry it. */
export async function engineState(docker: Docker, timeoutMs = ENGINE_STATE_TIMEOUT_MS): Promise<HelloFrame["docker"]> {
  try {
    const version = await engineVersion(docker, timeoutMs);
    return { ok: true, version: version.Version };
  } catch {
    return { ok: false, version: null };
  }
}
