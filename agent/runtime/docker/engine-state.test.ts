import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { startCuttingEngine } from "../../../test/support/cutting-engine";
import { engineSocket } from "../../../test/support/docker-proxy";
import { createDockerClient } from "./client";
import { engineState } from "./engine-state";

let dir: string | undefined;
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("engineState", () => {
  it("reports a hung engine as not ok instead of keeping the hello waiting", async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "kai-docker-"));
    const socketPath = path.join(dir, "docker.sock");
    // A real socket that accepts the request and never answers, as a hung daemon does.
    const server = net.createServer((connection) => connection.resume());
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    try {
      expect(await engineState(createDockerClient({ socketPath }), 200)).toEqual({ ok: false, version: null });
    } finally {
      server.close();
    }
  });

  it("asks again while its requests are cut on connections kept for reuse, as after a dropped socket", async () => {
    dir ??= await mkdtemp(path.join(os.tmpdir(), "kai-docker-"));
    const socketPath = path.join(dir, "cutting.sock");
    // In front of the real engine: the second request on any connection closes it, as a
    // kept-alive connection the engine (or a proxy) closed fails the next request sent on it.
    let cut = 0;
    const server = net.createServer((client) => {
      const engine = net.createConnection(engineSocket());
      let requests = 0;
      client.on("data", (chunk: Buffer) => {
        requests += (chunk.toString("latin1").match(/^GET \S+ HTTP\/1\.1\r\n/gm) ?? []).length;
        if (requests < 2) return;
        cut += 1;
        client.destroy();
        engine.destroy();
      });
      client.on("error", () => engine.destroy());
      engine.on("error", () => client.destroy());
      client.pipe(engine);
      engine.pipe(client);
    });
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    try {
      const docker = createDockerClient({ socketPath });
      // Three at once: three connections, all kept for reuse once answered.
      const first = await Promise.all([1, 2, 3].map(() => engineState(docker, 5_000)));
      expect(first.map((state) => state.ok)).toEqual([true, true, true]);
      const state = await engineState(docker, 5_000);
      expect(cut).toBe(3);
      expect(state.ok).toBe(true);
    } finally {
      server.close();
    }
  });

  it("pauses before each new ask when every connection is cut, longer each time, and gives up after a few", async () => {
    const engine = await startCuttingEngine();
    try {
      const started = performance.now();
      expect(await engineState(createDockerClient({ socketPath: engine.socketPath }), 10_000)).toEqual({
        ok: false,
        version: null,
      });
      const tookMs = performance.now() - started;
      const asked = engine.requests.map((request) => request.atMs);
      // Pauses of 10-20, 20-40, 40-80, … ms, up to 1 s: 8 asks over at least 1.13 s.
      expect(asked).toHaveLength(8);
      const gaps = asked.slice(1).map((at, i) => at - (asked[i] ?? 0));
      expect(gaps[0]).toBeGreaterThanOrEqual(9);
      expect(gaps.at(-1)).toBeGreaterThanOrEqual(499);
      expect(tookMs).toBeGreaterThanOrEqual(1_130);
      expect(tookMs).toBeLessThan(10_000);
    } finally {
      await engine.close();
    }
  });

  it("reports the real engine's version", async () => {
    const state = await engineState(createDockerClient({}), 5_000);
    expect(state.ok).toBe(true);
    expect(state.version).toMatch(/^\d+\./);
  });
});
