import { setTimeout as sleep } from "node:timers/promises";
import type Docker from "dockerode";
import type { HelloFrame } from "../../../shared/protocol";
import { Backoff } from "../../backoff";
import { engineVersion } from "./engine-version";

/**
 * How a request fails when it is sent on a kept-alive connection that the other end has
 * closed (an engine restart, a dropped socket) before the agent noticed: that connection
 * leaves the pool with the failure, so asking again takes another one or a new one. A stopped
 * engine refuses a new connection instead (ECONNREFUSED, ENOENT), which is an answer.
 */
const STALE_CONNECTION = new Set(["ECONNRESET", "EPIPE"]);
/**
 * The most times the engine is asked when each ask is cut. A drop can leave kept-alive
 * connections whose close the agent has not read yet; the pause before each new ask lets it
 * read them, so the next ask takes a new connection. An engine, or a proxy in front of it, that
 * cuts new connections too is not ok once these are spent (about 1 to 2 s of pauses).
 */
const MAX_ASKS = 8;
/**
 * The pause before each new ask: 10 to 20 ms, doubling up to 1 s, afresh for every state asked.
 * A socket that cuts every connection is then asked a few times over a second or two, not in a
 * tight loop (each ask takes about 1.5 ms, and a flapping event stream asks for a state often).
 */
const askPauses = () => new Backoff({ baseMs: 20, capMs: 1_000 });

/**
 * The engine's state as the hello and the Docker-state follower carry it; not ok past
 * `timeoutMs`. A request cut on a stale connection is asked again after a pause, within the
 * same time: without that, the check made as the engine's event stream drops would report a
 * healthy engine unreachable, since that drop closed the connections kept for reuse too.
 */
export async function engineState(docker: Docker, timeoutMs: number): Promise<HelloFrame["docker"]> {
  const deadline = Date.now() + timeoutMs;
  const pauses = askPauses();
  for (let ask = 1; ; ask++) {
    try {
      const version = await engineVersion(docker, Math.max(1, deadline - Date.now()));
      return { ok: true, version: version.Version };
    } catch (error) {
      const stale = STALE_CONNECTION.has((error as NodeJS.ErrnoException).code ?? "");
      const pause = pauses.next();
      if (!stale || ask >= MAX_ASKS || Date.now() + pause >= deadline) return { ok: false, version: null };
      await sleep(pause);
    }
  }
}
