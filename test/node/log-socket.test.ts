import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import Docker from "dockerode";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
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

/** One frame of Docker's multiplexed log: stream 1 stdout, 2 stderr. */
function frame(stream: 1 | 2, text: string): Buffer {
  const payload = Buffer.from(text);
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

/**
 * Answers a real engine does not give, from a unix socket that plays one (each connection
 * gets `answer`'s writes, in order): what a proxy in front of an engine might send.
 */
describe("followLogs against unusual answers", () => {
  let dir: string;
  let server: net.Server | undefined;
  const requests: string[] = [];
  const connections = new Set<net.Socket>();
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "kai-logsock-"));
  });
  afterEach(async () => {
    for (const socket of connections) socket.destroy();
    connections.clear();
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    server = undefined;
    requests.length = 0;
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** A client of a fake engine whose every connection is answered with `writes` (and left open). */
  async function engine(writes: (string | Buffer)[], name: string): Promise<Docker> {
    const socketPath = path.join(dir, `${name}.sock`);
    server = net.createServer((socket) => {
      connections.add(socket);
      socket.once("data", (request) => {
        requests.push(request.toString("latin1").split("\r\n")[0] ?? "");
        for (const write of writes) socket.write(write);
      });
      socket.on("error", () => undefined);
    });
    await new Promise<void>((resolve) => server?.listen(socketPath, resolve));
    return new Docker({ socketPath, version: "v1.41" });
  }

  it("reads past an interim answer and a head split across reads, with the body's start in the head's read", async () => {
    const docker = await engine(
      [
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 2",
        "00 OK\r\nContent-Type: application/vnd.docker.multiplexed-stream\r\n\r\n",
        Buffer.concat([frame(1, "one\n"), frame(2, "two\n")]),
      ],
      "interim",
    );
    const stream = await followLogs(docker, "c1", OPTIONS, new AbortController().signal);
    const lines: RawLogLine[] = [];
    const demuxer = new LogDemuxer({ tty: false });
    await new Promise<void>((resolve) => {
      stream.on("data", (chunk: Buffer) => {
        lines.push(...demuxer.push(chunk));
        if (lines.length === 2) resolve();
      });
      stream.resume();
    });
    (stream as net.Socket).destroy();
    expect(lines.map((line) => [line.stream, line.text])).toEqual([
      ["stdout", "one"],
      ["stderr", "two"],
    ]);
    // The client's API version and the options, as dockerode would send them.
    expect(requests[0]).toBe(
      "GET /v1.41/containers/c1/logs?follow=true&stdout=true&stderr=true&timestamps=false HTTP/1.0",
    );
  });

  it("hands a chunked answer to dockerode's HTTP client, so its framing never reaches the log", async () => {
    const body = Buffer.concat([frame(1, "one\n"), frame(1, "two\n")]);
    const docker = await engine(
      [
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
        `${body.length.toString(16)}\r\n`,
        body,
        "\r\n0\r\n\r\n",
      ],
      "chunked",
    );
    const stream = await followLogs(docker, "c2", OPTIONS, new AbortController().signal);
    const lines = await readAll(stream);
    expect(lines.map((line) => line.text)).toEqual(["one", "two"]);
    // Asked raw first, then through dockerode (HTTP/1.1).
    expect(requests.map((line) => line.split(" ").at(-1))).toEqual(["HTTP/1.0", "HTTP/1.1"]);
  });

  it("fails with the engine's message on an error answer it keeps the connection open after", async () => {
    const message = JSON.stringify({ message: "engine says no" });
    const docker = await engine(
      [
        `HTTP/1.1 500 Internal Server Error\r\nContent-Length: ${message.length}\r\nConnection: keep-alive\r\n\r\n`,
        message,
      ],
      "refused",
    );
    const error = await followLogs(docker, "c3", OPTIONS, new AbortController().signal).then(
      () => undefined,
      (failure: unknown) => failure,
    );
    expect(error).toMatchObject({ statusCode: 500, json: { message: "engine says no" } });
    expect(dockerError(error).message).toContain("engine says no");
  });

  it("is cancelled while it reads an error answer whose body stalls", async () => {
    // The head promises 100 bytes of message and only 10 come: without the cancel the read
    // would wait for the rest (up to its 30 s bound).
    const docker = await engine(
      ["HTTP/1.1 500 Internal Server Error\r\nContent-Length: 100\r\n\r\n", '{"message"'],
      "stalled",
    );
    const cancel = new AbortController();
    const failed = followLogs(docker, "c4", OPTIONS, cancel.signal).then(
      () => undefined,
      (failure: unknown) => failure,
    );
    await expect.poll(() => requests.length).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    cancel.abort();
    const ended = await Promise.race([failed, new Promise((resolve) => setTimeout(resolve, 10_000, "still reading"))]);
    expect(ended).toMatchObject({ statusCode: 500 });
    await expect.poll(() => [...connections].every((socket) => socket.closed || socket.readableEnded)).toBe(true);
  });
});
