import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createDockerClient } from "./client";
import { DockerTimeoutError, engineVersion } from "./engine-version";

let dir: string | undefined;
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("engineVersion", () => {
  it("gives up on an engine that never answers and closes its connection", async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "kai-docker-"));
    const socketPath = path.join(dir, "docker.sock");
    // A real socket that accepts the request and never answers, as a stuck engine does.
    const server = net.createServer();
    const closed = new Promise<void>((resolve) =>
      server.once("connection", (connection) => connection.resume().once("close", () => resolve())),
    );
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    try {
      const error = await engineVersion(createDockerClient({ socketPath }), 200).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DockerTimeoutError);
      expect(error).toMatchObject({ code: "ETIMEDOUT", message: "Docker did not answer within 0.2 s" });
      // The request was aborted, not abandoned: the engine sees its connection end.
      await closed;
    } finally {
      server.close();
    }
  });
});
