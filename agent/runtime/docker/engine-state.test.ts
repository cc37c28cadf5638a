import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
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

  it("reports the real engine's version", async () => {
    const state = await engineState(createDockerClient({}), 5_000);
    expect(state.ok).toBe(true);
    expect(state.version).toMatch(/^\d+\./);
  });
});
