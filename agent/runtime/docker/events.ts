import { Readable } from "node:stream";
import type Docker from "dockerode";
import { z } from "zod";
import { messageOf } from "../../../shared/errors";
import { CONTAINER_EVENT_ACTIONS } from "../../../shared/protocol";
import type { ContainerEvent } from "../../../shared/schemas/services";
import { Backoff } from "../../backoff";
import type { Logger } from "../../log";
import { isoTime } from "../iso-time";
import { LABELS } from "./containers";

/**
 * Container lifecycle events from the engine's event stream, so that a container that
 * dies on its own, or is killed with the docker CLI, is seen as surely as one Kai stopped.
 */

/** One line of `GET /events` (API 1.41), as much of it as is read here. */
export const dockerEvent = z.object({
  Type: z.string(),
  Action: z.string(),
  Actor: z.object({ ID: z.string(), Attributes: z.record(z.string(), z.string()).nullish() }),
  time: z.number().optional(),
  timeNano: z.number().optional(),
});
export type DockerEvent = z.infer<typeof dockerEvent>;

type Action = ContainerEvent["action"];
const ACTIONS: ReadonlySet<string> = new Set<Action>(CONTAINER_EVENT_ACTIONS);

function isAction(value: string): value is Action {
  return ACTIONS.has(value);
}

/**
 * A Docker container event as a Kai `ContainerEvent`, or null for the actions Kai does not
 * report (exec_*, attach, rename, resize, top, commit, copy, …). Docker spells health
 * events `health_status: healthy`; the verdict after the colon is dropped because the
 * shared event shape has no field for it (ask `service.inspect` for the health).
 * `containerId` is the full id; `exitCode` is set for `die` only.
 */
export function fromDockerEvent(event: DockerEvent, hostId: string): ContainerEvent | null {
  if (event.Type !== "container") return null;
  const action = event.Action.split(":")[0]?.trim() ?? "";
  if (!isAction(action)) return null;
  const attributes = event.Actor.Attributes ?? {};
  const exitCode = action === "die" ? Number.parseInt(attributes.exitCode ?? "", 10) : Number.NaN;
  const millis = event.timeNano !== undefined ? Math.floor(event.timeNano / 1e6) : (event.time ?? 0) * 1000;
  return {
    action,
    containerId: event.Actor.ID,
    name: attributes.name ?? "",
    image: attributes.image ?? "",
    managed: attributes[LABELS.managed] === "true" && attributes[LABELS.host] === hostId,
    exitCode: Number.isInteger(exitCode) ? exitCode : null,
    time: isoTime(millis || Date.now()),
  };
}

/** Hooks into the event stream itself, for state that must know what it may have missed. */
export interface EventObserver {
  /** A subscription to the engine's events is open. */
  opened(): void;
  /** It ended; until it opens again, changes go unseen. */
  lost(): void;
  /** Every container or image event, as the engine sent it. */
  event(event: DockerEvent): void;
}

export interface WatchOptions {
  backoff?: Backoff;
  /** Told when the stream opens and ends, and given every event line (image events too): the container index. */
  observer?: EventObserver;
}

/**
 * Calls `onEvent` for every container event until `signal` aborts. When the stream ends
 * (the engine restarted, the socket dropped) it subscribes again after a jittered backoff,
 * asking for events since the last one it saw, so a short drop loses nothing and repeats
 * nothing; the backoff starts over after a stream that stayed open at least its longest pause.
 * Resolves once `signal` has aborted; never rejects.
 */
export async function watchContainerEvents(
  docker: Docker,
  hostId: string,
  onEvent: (event: ContainerEvent) => void,
  signal: AbortSignal,
  log?: Logger,
  options: WatchOptions = {},
): Promise<void> {
  const backoff = options.backoff ?? new Backoff({ baseMs: 200, capMs: 5_000 });
  const observer = options.observer;
  /** Nanoseconds of the last event delivered: where a new subscription resumes. */
  let lastNano = 0;
  let failures = 0;
  /** The last stream was cut soon after it opened: one opening again is no news for the log. */
  let flapping = false;
  while (!signal.aborted) {
    const since = lastNano > 0 ? Math.floor(lastNano / 1e9) : undefined;
    let openedAt: number | undefined;
    // A resumed subscription replays the whole second it starts in: skip what was delivered.
    let replaying = since !== undefined;
    const outcome = await subscribeOnce(
      docker,
      since,
      signal,
      (event) => {
        const nano = event.timeNano ?? (event.time ?? 0) * 1e9;
        if (replaying && nano <= lastNano) return;
        replaying = false;
        lastNano = Math.max(lastNano, nano);
        observer?.event(event);
        const converted = fromDockerEvent(event, hostId);
        if (!converted) return;
        try {
          onEvent(converted);
        } catch (error) {
          log?.("error", "container event handler failed", {
            action: converted.action,
            error: messageOf(error),
          });
        }
      },
      () => {
        openedAt = Date.now();
        observer?.opened();
        if (failures > 0) log?.(flapping ? "debug" : "info", "docker event stream restored");
      },
    );
    observer?.lost();
    if (signal.aborted) break;
    // Only a stream that stayed open as long as the longest pause worked: the next subscription
    // starts from the shortest pause again. One cut moments after it opened (a proxy in front of
    // the engine that drops it) is a failure like one that never opened, so the pauses keep
    // growing instead of the agent subscribing (and its observer checking the engine) five times
    // a second.
    const steady = openedAt !== undefined && Date.now() - openedAt >= backoff.capMs;
    if (steady) {
      failures = 0;
      backoff.reset();
    }
    flapping = openedAt !== undefined && !steady;
    failures += 1;
    const delay = backoff.next();
    log?.(failures === 1 ? "warn" : "debug", "docker event stream ended; subscribing again", {
      in_ms: delay,
      error: outcome,
    });
    await sleep(delay, signal);
  }
}

/** One subscription: resolves when the stream ends, with why when it was a failure. */
async function subscribeOnce(
  docker: Docker,
  since: number | undefined,
  signal: AbortSignal,
  onLine: (event: DockerEvent) => void,
  onOpen: () => void,
): Promise<string | undefined> {
  let stream: NodeJS.ReadableStream;
  try {
    stream = await docker.getEvents({
      // Image events too: a retag or removal changes the image a container list shows.
      filters: { type: ["container", "image"] },
      ...(since !== undefined ? { since } : {}),
      abortSignal: signal,
    });
  } catch (error) {
    return messageOf(error);
  }
  onOpen();
  return new Promise((resolve) => {
    let buffered = "";
    const finish = (why?: string) => {
      signal.removeEventListener("abort", onAbort);
      resolve(why);
    };
    const onAbort = () => {
      if (stream instanceof Readable) stream.destroy();
      finish();
    };
    signal.addEventListener("abort", onAbort, { once: true });
    stream.on("data", (chunk: Buffer | string) => {
      buffered += chunk.toString();
      let newline: number;
      while ((newline = buffered.indexOf("\n")) >= 0) {
        const parsed = dockerEvent.safeParse(parseJson(buffered.slice(0, newline)));
        buffered = buffered.slice(newline + 1);
        if (parsed.success) onLine(parsed.data);
      }
    });
    stream.on("end", () => finish("the engine closed the stream"));
    stream.on("close", () => finish("the stream closed"));
    stream.on("error", (error: Error) => finish(error.message));
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
