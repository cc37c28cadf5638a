import type Docker from "dockerode";
import type { HelloFrame } from "../../../shared/protocol";
import { engineVersion } from "./engine-version";

/**
 * How a request fails when it is sent on a kept-alive connection that the other end has
 * closed (an engine restart, a dropped socket) before the agent noticed: that connection
 * leaves the pool with the failure, so asking again takes another one or a new one. A stopped
 * engine refuses a new connection instead (ECONNREFUSED, ENOENT), which is an answer.
 */
const STALE_CONNECTION = new Set(["ECONNRESET", "EPIPE"]);
/**
 * The most times the engine is asked when each ask is cut: a drop leaves one stale connection
 * per request that was kept for reuse. The agent's handlers run at most 64 requests at once
 * (rpc.ts); the container index and stats add a few of their own. Past it, the check is not
 * ok, and the follower asks again in 15 s.
 */
const MAX_ASKS = 65;

/**
 * The engine's state as the hello and the Docker-state follower carry it; not ok past
 * `timeoutMs`. A request cut on a stale connection is asked again (within the same time):
 * without that, the check made as the engine's event stream drops would report a healthy
 * engine unreachable, since that drop closed the connections kept for reuse too.
 */
export async function engineState(docker: Docker, timeoutMs: number): Promise<HelloFrame["docker"]> {
  const deadline = Date.now() + timeoutMs;
  for (let ask = 1; ; ask++) {
    try {
      const version = await engineVersion(docker, Math.max(1, deadline - Date.now()));
      return { ok: true, version: version.Version };
    } catch (error) {
      const stale = STALE_CONNECTION.has((error as NodeJS.ErrnoException).code ?? "");
      if (!stale || ask >= MAX_ASKS || Date.now() >= deadline) return { ok: false, version: null };
    }
  }
}
