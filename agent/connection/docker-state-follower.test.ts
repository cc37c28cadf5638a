import { afterEach, describe, expect, it, vi } from "vitest";
import { DOCKER_STATE_TOPIC, type HelloFrame } from "../../shared/protocol";
import { startCuttingEngine } from "../../test/support/cutting-engine";
import { createDockerClient } from "../runtime/docker/client";
import { engineState } from "../runtime/docker/engine-state";
import { watchContainerEvents } from "../runtime/docker/events";
import { followDockerState } from "./docker-state-follower";

type DockerState = HelloFrame["docker"];

const UP: DockerState = { ok: true, version: "27.0.1" };
const UPGRADED: DockerState = { ok: true, version: "28.1.0" };
const DOWN: DockerState = { ok: false, version: null };
const MINUTES = 60_000;
/** Every follower a test made: stopped after it, so none of their timers outlive it. */
const running: AbortController[] = [];

/**
 * A follower whose engine answers what the test says: `answers` are taken in order (the last
 * one repeats), or a check waits for the test to settle it when `held` is set.
 */
function follower(options: { reported?: DockerState; livenessMs?: number; retryMs?: number; canPublish?: boolean }) {
  const published: DockerState[] = [];
  const logged: string[] = [];
  const controller = new AbortController();
  running.push(controller);
  const engine = { answers: [UP], asked: 0, answered: 0, held: false, pending: [] as ((state: DockerState) => void)[] };
  const hooks = followDockerState({
    dockerState: async () => {
      engine.asked += 1;
      const state = engine.held
        ? await new Promise<DockerState>((resolve) => engine.pending.push(resolve))
        : (engine.answers.shift() ?? DOWN);
      if (engine.answers.length === 0) engine.answers.push(state);
      engine.answered += 1;
      return state;
    },
    reported: "reported" in options ? options.reported : UP,
    publish: (topic, data) => {
      expect(topic).toBe(DOCKER_STATE_TOPIC);
      published.push(data as DockerState);
    },
    canPublish: () => options.canPublish ?? true,
    livenessMs: options.livenessMs ?? 5 * MINUTES,
    retryMs: options.retryMs ?? 15_000,
    log: (level, message) => level !== "debug" && logged.push(message),
    signal: controller.signal,
  });
  return { hooks, engine, published, logged, controller };
}

afterEach(() => {
  for (const controller of running.splice(0)) controller.abort();
  vi.useRealTimers();
});

describe("followDockerState", () => {
  it("does no Docker call while the stream stays open, until the liveness check is due", async () => {
    vi.useFakeTimers();
    const { hooks, engine, published } = follower({});
    hooks.opened();
    await vi.advanceTimersByTimeAsync(0);
    // The stream opening asks once; the engine is the one hello reported: nothing to publish.
    expect(engine.asked).toBe(1);
    await vi.advanceTimersByTimeAsync(5 * MINUTES - 1);
    expect(engine.asked).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(engine.asked).toBe(2);
    await vi.advanceTimersByTimeAsync(5 * MINUTES);
    expect(engine.asked).toBe(3);
    expect(published).toEqual([]);
  });

  it("finds an engine that hangs with its stream open at the liveness check, and re-checks it every retry", async () => {
    vi.useFakeTimers();
    const { hooks, engine, published, logged } = follower({});
    hooks.opened();
    await vi.advanceTimersByTimeAsync(0);
    engine.answers = [DOWN, DOWN, UP];
    await vi.advanceTimersByTimeAsync(5 * MINUTES);
    expect(published).toEqual([DOWN]);
    // Not ok: asked again after the retry interval, not after the liveness interval.
    await vi.advanceTimersByTimeAsync(15_000);
    expect(engine.asked).toBe(3);
    await vi.advanceTimersByTimeAsync(15_000);
    expect(engine.asked).toBe(4);
    expect(published).toEqual([DOWN, UP]);
    expect(logged).toEqual(["docker engine unreachable", "docker engine reachable"]);
    // Ok again: back to the liveness interval.
    await vi.advanceTimersByTimeAsync(5 * MINUTES - 1);
    expect(engine.asked).toBe(4);
  });

  it("reports an engine that stopped as its stream ends, once however many resubscriptions fail", async () => {
    vi.useFakeTimers();
    const { hooks, engine, published } = follower({});
    hooks.opened();
    await vi.advanceTimersByTimeAsync(0);
    engine.answers = [DOWN];
    hooks.lost();
    await vi.advanceTimersByTimeAsync(0);
    expect(published).toEqual([DOWN]);
    // The watcher's resubscriptions fail while the engine is down: each says lost() again.
    for (let i = 0; i < 5; i++) hooks.lost();
    await vi.advanceTimersByTimeAsync(0);
    expect(engine.asked).toBe(2);
    // The engine is back, upgraded: the stream opens again and its version is asked.
    engine.answers = [UPGRADED];
    hooks.opened();
    await vi.advanceTimersByTimeAsync(0);
    expect(published).toEqual([DOWN, UPGRADED]);
    expect(engine.asked).toBe(3);
  });

  it("publishes nothing when the stream drops and the engine answers as before", async () => {
    vi.useFakeTimers();
    const { hooks, engine, published } = follower({});
    hooks.opened();
    await vi.advanceTimersByTimeAsync(0);
    hooks.lost();
    await vi.advanceTimersByTimeAsync(0);
    hooks.opened();
    await vi.advanceTimersByTimeAsync(0);
    expect(engine.asked).toBe(3);
    expect(published).toEqual([]);
  });

  it("checks once when the stream cannot open at all, though hello said the engine was ok", async () => {
    vi.useFakeTimers();
    const { hooks, engine, published } = follower({});
    engine.answers = [DOWN];
    hooks.lost();
    hooks.lost();
    await vi.advanceTimersByTimeAsync(0);
    expect(engine.asked).toBe(1);
    expect(published).toEqual([DOWN]);
  });

  it("while the stream is down and the engine answers, checks every retry, so a stop is still seen", async () => {
    vi.useFakeTimers();
    const { hooks, engine, published } = follower({});
    // /events cannot open (a proxy that blocks it), yet the engine answers: the hello's ok stands.
    hooks.lost();
    await vi.advanceTimersByTimeAsync(0);
    expect(published).toEqual([]);
    engine.answers = [DOWN];
    await vi.advanceTimersByTimeAsync(15_000);
    expect(engine.asked).toBe(2);
    expect(published).toEqual([DOWN]);
  });

  it("keeps checking when a check throws", async () => {
    vi.useFakeTimers();
    const published: DockerState[] = [];
    const controller = new AbortController();
    running.push(controller);
    let asked = 0;
    followDockerState({
      dockerState: async () => {
        asked += 1;
        if (asked === 1) throw new Error("a bug");
        return UP;
      },
      reported: undefined,
      publish: (_topic, data) => published.push(data as DockerState),
      canPublish: () => true,
      livenessMs: 5 * MINUTES,
      retryMs: 15_000,
      log: () => undefined,
      signal: controller.signal,
    });
    await vi.advanceTimersByTimeAsync(15_000);
    expect(published).toEqual([{ ok: false, version: null }]);
    await vi.advanceTimersByTimeAsync(15_000);
    expect(published).toEqual([{ ok: false, version: null }, UP]);
  });

  it("runs one check at a time: a stream that flaps while the engine is slow costs one more check, asked after the flaps", async () => {
    const { hooks, engine, published } = follower({});
    engine.held = true;
    // Lost: the check waits on a slow engine. Meanwhile the stream opens and drops ten times.
    hooks.lost();
    for (let flap = 0; flap < 10; flap++) {
      hooks.opened();
      hooks.lost();
    }
    expect(engine.asked).toBe(1);
    engine.pending.shift()?.(DOWN);
    // The checks asked for meanwhile run as one, from after the flaps: a state read after them.
    await vi.waitFor(() => expect(engine.asked).toBe(2));
    engine.pending.shift()?.(UPGRADED);
    await vi.waitFor(() => expect(published).toEqual([DOWN, UPGRADED]));
    expect(engine.asked).toBe(2);
  });

  it("checks again when asked during a check that then answers, and keeps its schedule after", async () => {
    vi.useFakeTimers();
    const { hooks, engine, published } = follower({});
    engine.held = true;
    hooks.lost();
    hooks.opened();
    await vi.advanceTimersByTimeAsync(0);
    expect(engine.asked).toBe(1);
    engine.pending.shift()?.(DOWN);
    await vi.advanceTimersByTimeAsync(0);
    expect(engine.asked).toBe(2);
    engine.held = false;
    engine.answers = [UP];
    engine.pending.shift()?.(UP);
    await vi.advanceTimersByTimeAsync(0);
    expect(published).toEqual([DOWN, UP]);
    // Ok with its stream open: the next check is the liveness one, from the last answer.
    await vi.advanceTimersByTimeAsync(5 * MINUTES - 1);
    expect(engine.asked).toBe(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(engine.asked).toBe(3);
  });

  it("publishes nothing once the socket is closing, and stops with its signal", async () => {
    vi.useFakeTimers();
    const closing = follower({ canPublish: false });
    closing.engine.answers = [DOWN];
    closing.hooks.lost();
    await vi.advanceTimersByTimeAsync(0);
    expect(closing.engine.asked).toBe(1);
    expect(closing.published).toEqual([]);

    const { hooks, engine, controller } = follower({});
    controller.abort();
    hooks.lost();
    hooks.opened();
    await vi.advanceTimersByTimeAsync(60 * MINUTES);
    expect(engine.asked).toBe(0);
  });

  it("checks soon when the hello carried no state", async () => {
    vi.useFakeTimers();
    const { engine, published } = follower({ reported: undefined });
    await vi.advanceTimersByTimeAsync(15_000);
    expect(engine.asked).toBe(1);
    expect(published).toEqual([UP]);
  });
});

describe("followDockerState, driven by the real event watcher", () => {
  it("asks an engine that cuts every request, and every event stream as it opens, a few times a second", async () => {
    // The agent's own wiring (cli.ts, connection.ts) with its own pauses, in front of a socket
    // proxy whose engine is gone: each stream that opens and drops asks for the engine's state twice.
    const engine = await startCuttingEngine({ eventStreamMs: 5 });
    const controller = new AbortController();
    running.push(controller);
    try {
      const docker = createDockerClient({ socketPath: engine.socketPath });
      const published: unknown[] = [];
      const hooks = followDockerState({
        dockerState: () => engineState(docker, 10_000),
        reported: UP,
        publish: (_topic, data) => published.push(data),
        canPublish: () => true,
        livenessMs: 5 * MINUTES,
        retryMs: 15_000,
        log: () => undefined,
        signal: controller.signal,
      });
      const watching = watchContainerEvents(docker, "host-1", () => undefined, controller.signal, undefined, {
        observer: { opened: hooks.opened, lost: hooks.lost, event: () => undefined },
      });
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      controller.abort();
      await watching;
      // One check at a time, each of at most 8 asks paced over a second or more: about 20 in
      // 3 s, where overlapping checks of 65 asks each made about 2,000.
      expect(engine.count(/\/version$/)).toBeGreaterThanOrEqual(8);
      expect(engine.count(/\/version$/)).toBeLessThanOrEqual(40);
      expect(published).toEqual([DOWN]);
    } finally {
      await engine.close();
    }
  });
});
