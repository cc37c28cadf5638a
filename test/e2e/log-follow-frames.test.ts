import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import type { LogEntry } from "../../shared/schemas/services";
import { streamFrameOf, uniqueName } from "../support/kai-client";
import { until } from "../support/until";
import { createWorld, type World } from "./world";

/**
 * `frames=batch` on a log follow: the same lines, numbered the same way, in `chunks` frames.
 * A real workerd, agent and Docker: the batches are whatever the agent read from Docker at once.
 */

let world: World;
const created: string[] = [];
/** Lines the container prints as fast as it can: enough that the agent reads many at a time. */
const LINES = 3_000;
/** Long before any container: with `since`, a follow starts with every line the container wrote. */
const BEGINNING = "2000-01-01T00:00:00Z";

beforeAll(async () => {
  world = await createWorld();
});
afterAll(async () => {
  for (const id of created)
    await world.docker
      .getContainer(id)
      .remove({ force: true })
      .catch(() => undefined);
  await world?.dispose();
});

async function printer(): Promise<string> {
  const made = await world.docker.createContainer({
    name: uniqueName("kai-e2e-frames-"),
    Image: world.image,
    Cmd: ["/bin/sh", "-c", `/bin/busybox seq 1 ${LINES}; exec sleep 3600`],
  });
  created.push(made.id);
  await made.start();
  await until(async () => {
    const logs = (await world.api(`/api/services/${made.id}/logs?lines=1`)).body.data.logs as LogEntry[];
    return logs[0]?.message === String(LINES);
  });
  return made.id;
}

type Numbered = { seq: number; entry: LogEntry };
type Followed = { lines: Numbered[]; frames: number; framesOfMany: number };

/** Follows until `count` lines came, flattening `chunks` frames into numbered lines. */
function follow(id: string, query: string, count: number): Promise<Followed> {
  const socket = new WebSocket(`${world.edge.url.replace("http", "ws")}/api/services/${id}/logs/follow?${query}`, {
    headers: { authorization: `Bearer ${world.session.token}` },
  });
  const followed: Followed = { lines: [], frames: 0, framesOfMany: 0 };
  return new Promise<Followed>((resolve, reject) => {
    socket.on("message", (data) => {
      const frame = streamFrameOf("service.logs.follow", data);
      if (frame.type === "error" || frame.type === "end") return reject(new Error(`the stream ended: ${data}`));
      followed.frames += 1;
      const entries = frame.type === "chunks" ? frame.data : [frame.data];
      if (entries.length > 1) followed.framesOfMany += 1;
      for (const [index, entry] of entries.entries()) followed.lines.push({ seq: frame.seq + index, entry });
      if (followed.lines.length >= count) resolve(followed);
    });
    socket.once("error", reject);
  }).finally(() => socket.close());
}

describe("log follow with batched frames", () => {
  it("delivers every line in order in chunks frames, numbered as the per-line stream numbers them", async () => {
    const id = await printer();
    const batched = await follow(id, `frames=batch&since=${BEGINNING}`, LINES);
    const perLine = await follow(id, `since=${BEGINNING}`, LINES);

    expect(batched.lines.map((line) => line.entry.message)).toEqual(
      Array.from({ length: LINES }, (_, index) => String(index + 1)),
    );
    expect(batched.lines.map((line) => line.seq)).toEqual(Array.from({ length: LINES }, (_, index) => index));
    // The agent reads thousands of lines from Docker in a few reads: they travel together.
    expect(batched.framesOfMany).toBeGreaterThan(0);
    expect(batched.frames).toBeLessThan(LINES);
    // The default stays one frame per line, and both number the same lines the same way.
    expect(perLine.frames).toBe(LINES);
    expect(perLine.lines).toEqual(batched.lines);
  });

  it("resumes with since like the per-line stream: every line from that line's time on, numbered from 0", async () => {
    const id = await printer();
    const all = await follow(id, `frames=batch&since=${BEGINNING}`, LINES);
    const middle = all.lines[LINES / 2];
    if (!middle) throw new Error("no middle line");
    const from = all.lines.findIndex((line) => line.entry.timestamp === middle.entry.timestamp);
    const expected = all.lines.slice(from).map((line) => line.entry);

    const since = encodeURIComponent(middle.entry.timestamp);
    const resumed = await follow(id, `frames=batch&since=${since}`, expected.length);
    expect(resumed.lines.map((line) => line.entry)).toEqual(expected);
    expect(resumed.lines.map((line) => line.seq)).toEqual(expected.map((_, index) => index));
  });

  it("answers a bad frames value with a 400 in Kai's format, before any socket exists", async () => {
    const id = await printer();
    for (const value of ["lines", "BATCH", "", "batch,line"]) {
      const refusal = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const socket = new WebSocket(
          `${world.edge.url.replace("http", "ws")}/api/services/${id}/logs/follow?frames=${encodeURIComponent(value)}`,
          { headers: { authorization: `Bearer ${world.session.token}` } },
        );
        socket.once("unexpected-response", (_request, response) => {
          let body = "";
          response.on("data", (chunk: Buffer) => {
            body += chunk.toString();
          });
          response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
        });
        socket.once("open", () => reject(new Error(`the edge opened a follow with frames=${value}`)));
        socket.once("error", () => undefined);
      });
      expect(refusal.status).toBe(400);
      expect(JSON.parse(refusal.body)).toMatchObject({ success: false, error: { code: "VALIDATION_ERROR" } });
    }
  });
});
