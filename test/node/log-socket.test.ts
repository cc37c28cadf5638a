import Docker from "dockerode";
import { afterEach, describe, expect, it } from "vitest";
import { dockerError } from "../../agent/runtime/docker/client";
import { type FollowOptions, followLogs } from "../../agent/runtime/docker/log-socket";
import { LogDemuxer, type RawLogLine } from "../../agent/runtime/docker/log-stream";
import { type ServiceWorld, serviceWorld } from "../support/service-world";
import { setupOrFail } from "../support/setup-or-fail";

/**
 * followLogs against the real engine: read raw off the local socket (HTTP/1.0) it yields the
 * same multiplexed log as dockerode's path, ends when the container stops, and fails as
 * dockerode does.
 */

let world: ServiceWorld;

const setup = setupOrFail(async () => {
  world = await serviceWorld("logsock");
});
afterEach(async () => {
  if (setup.ready) await world.cleanup();
});

const OPTIONS: FollowOptions = { follow: true, stdout: true, stderr: true, timestamps: false };

/** Every line of a follow until the engine ends it. */
async function readAll(stream: NodeJS.ReadableStream): Promise<RawLogLine[]> {
  const demuxer = new LogDemuxer({ tty: false });
  const lines: RawLogLine[] = [];
  await new Promise<void>((resolve, reject) => {
    stream.on("data", (chunk: Buffer) => lines.push(...demuxer.push(chunk)));
    stream.on("end", () => resolve());
    stream.on("error", reject);
    stream.resume();
  });
  return [...lines, ...demuxer.end()];
}

describe("followLogs", () => {
  it("reads the same lines as dockerode, stdout and stderr apart, and ends when the container stops", async () => {
    const script = "for n in $(seq 1 500); do echo out $n; echo err $n >&2; done; sleep 1";
    const info = await world.container({ Cmd: ["/bin/sh", "-c", script] });
    const raw = await readAll(await followLogs(world.docker, info.Id, OPTIONS, new AbortController().signal));
    // dockerode's own path (a client given a TCP host would take it): the same engine, after the fact.
    const viaHttp = await world.docker
      .getContainer(info.Id)
      .logs({ follow: false, stdout: true, stderr: true, timestamps: false });
    expect(raw).toEqual(new LogDemuxer({ tty: false }).push(viaHttp));
    expect(raw.filter((line) => line.stream === "stdout").map((line) => line.text)).toEqual(
      Array.from({ length: 500 }, (_, index) => `out ${index + 1}`),
    );
    expect(raw.filter((line) => line.stream === "stderr").map((line) => line.text)).toEqual(
      Array.from({ length: 500 }, (_, index) => `err ${index + 1}`),
    );
  });

  it("takes the engine's API version from the client, as dockerode does", async () => {
    const info = await world.container({ Cmd: ["/bin/sh", "-c", "echo versioned"] });
    const { socketPath } = world.docker.modem as { socketPath?: string };
    const versioned = new Docker({ socketPath: socketPath ?? "/var/run/docker.sock", version: "v1.41" });
    const lines = await readAll(await followLogs(versioned, info.Id, OPTIONS, new AbortController().signal));
    expect(lines.map((line) => line.text)).toEqual(["versioned"]);
  });

  it("fails as dockerode does for a container that does not exist (404 with the engine's message)", async () => {
    const error = await followLogs(world.docker, "kai-no-such-container", OPTIONS, new AbortController().signal).then(
      () => undefined,
      (failure: unknown) => failure,
    );
    const mapped = dockerError(error);
    expect(mapped.code).toBe("CONTAINER_NOT_FOUND");
    expect(mapped.message).toContain("kai-no-such-container");
  });

  it("is cancelled by its signal before the engine answers", async () => {
    const controller = new AbortController();
    controller.abort();
    const info = await world.container({});
    await expect(followLogs(world.docker, info.Id, OPTIONS, controller.signal)).rejects.toMatchObject({
      name: "AbortError",
    });
  });
});
