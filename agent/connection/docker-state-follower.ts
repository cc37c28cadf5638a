import { DOCKER_STATE_TOPIC, type HelloFrame } from "../../shared/protocol";
import type { Logger } from "../log";

type DockerState = HelloFrame["docker"];

/** What the engine's event stream tells the follower (the event watcher calls these). */
export interface EngineStreamHooks {
  /** A subscription to the engine's events is open: the engine answers, maybe a new one. */
  opened(): void;
  /** It ended, or a new one failed; called again for every failed resubscription. */
  lost(): void;
}

export interface DockerStateFollowerOptions {
  /** Asks the engine for its current state. */
  dockerState: () => Promise<DockerState>;
  /** The state the edge knows already (the one `hello` carried); undefined: none yet. */
  reported: DockerState | undefined;
  publish: (topic: string, data: unknown) => void;
  /** False once the socket is closing: a state found then has nobody to go to. */
  canPublish: () => boolean;
  /** While the engine answers and its stream is open: how long until it is asked anyway (one that hangs with its stream open). */
  livenessMs: number;
  /**
   * While it does not answer, or its stream is down: how long until it is asked again (a slow
   * answer must not stand for long, and without the stream nothing else would tell a stop).
   */
  retryMs: number;
  log: Logger;
  /** Aborts as the connection ends; the follower stops with it. */
  signal: AbortSignal;
}

/**
 * The Docker engine's state as the edge sees it, for as long as one connection is welcomed,
 * published on DOCKER_STATE_TOPIC when it changed (the engine stopped, started, or was
 * upgraded). It follows the engine's event stream rather than polling: a stream that opens
 * means an engine that answers, maybe a new one (an upgrade restarts the engine, which always
 * breaks the stream), so its version is asked then; a stream that ends is checked once, so a
 * dropped socket with a healthy engine does not flap the state, and an engine that stopped is
 * reported within about a second. The watcher's resubscriptions find it again. Beside that, a
 * slow liveness check (`livenessMs`) catches an engine that hangs with its stream open, and a
 * state that is not ok, or an engine whose stream is down, is re-checked every `retryMs`.
 *
 * One check runs at a time. A check asked for while one runs (a stream lost, then opened, while
 * the engine is slow to answer) runs once that one ends, so the newest ask is still answered by a
 * state read after it, and an event stream that flaps costs one engine call after the running
 * one, not one per flap. Answers are published in the order they were asked.
 */
export function followDockerState(options: DockerStateFollowerOptions): EngineStreamHooks {
  const { dockerState, publish, canPublish, livenessMs, retryMs, log, signal } = options;
  let last = options.reported ? JSON.stringify(options.reported) : "";
  /** The stream is known to be down: a failed resubscription is not news. */
  let streamDown = false;
  /** A check is waiting on the engine. */
  let running = false;
  /** Asked for while one ran: another check follows it. */
  let due = false;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const schedule = (ok: boolean) => {
    clearTimeout(timer);
    timer = setTimeout(check, ok ? livenessMs : retryMs);
  };
  function check() {
    if (running) {
      due = true;
      return;
    }
    running = true;
    void checkWhileDue().finally(() => {
      running = false;
    });
  }
  /** Checks, and again for as long as a check was asked for meanwhile. */
  async function checkWhileDue() {
    do {
      due = false;
      // The next check is scheduled once this one is answered, from then.
      clearTimeout(timer);
      const docker = await askEngine();
      if (signal.aborted) return;
      // The slow liveness check only while the stream watches the engine; without it (a proxy
      // that blocks /events, or between resubscriptions) a stop would otherwise go unseen for minutes.
      schedule(docker.ok && !streamDown);
      report(docker);
    } while (due);
  }
  async function askEngine(): Promise<DockerState> {
    try {
      return await dockerState();
    } catch {
      // Not expected (engineState answers not ok instead), but a throw must not end the checks.
      return { ok: false, version: null };
    }
  }
  function report(docker: DockerState) {
    if (JSON.stringify(docker) === last || !canPublish()) return;
    last = JSON.stringify(docker);
    log(docker.ok ? "info" : "warn", docker.ok ? "docker engine reachable" : "docker engine unreachable", {
      version: docker.version ?? undefined,
    });
    publish(DOCKER_STATE_TOPIC, docker);
  }

  if (!signal.aborted) {
    schedule(options.reported?.ok === true);
    signal.addEventListener("abort", () => clearTimeout(timer), { once: true });
  }
  return {
    opened() {
      if (signal.aborted) return;
      streamDown = false;
      check();
    },
    lost() {
      if (signal.aborted || streamDown) return;
      streamDown = true;
      check();
    },
  };
}
