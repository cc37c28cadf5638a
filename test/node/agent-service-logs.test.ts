import { afterEach, describe, expect, it } from "vitest";
import type { LogEntry } from "../../shared/schemas/services";
import { kaiError, type ServiceWorld, serviceWorld } from "../support/service-world";
import { setupOrFail } from "../support/setup-or-fail";
import { until } from "../support/until";

/** `service.logs` and `service.logs.follow` against the real engine's log API. */

let world: ServiceWorld;

const setup = setupOrFail(async () => {
  world = await serviceWorld("logs");
});
afterEach(async () => {
  if (setup.ready) await world.cleanup();
});

const SCRIPT = [
  "echo 'service started'",
  "echo 'ERROR bad thing' >&2",
  "echo '[warn] careful'",
  "echo 'time=now level=debug msg=tick'",
  "echo 'plain stderr line' >&2",
  'echo \'{"level":"error","msg":"json"}\'',
  "sleep 86400",
].join("; ");

/** Runs `script` in a running container and waits for it to finish. */
async function exec(id: string, script: string): Promise<void> {
  const exec = await world.docker
    .getContainer(id)
    .exec({ Cmd: ["/bin/sh", "-c", script], AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  await new Promise((resolve) => {
    stream.on("end", resolve);
    stream.resume();
  });
}

async function logsOf(id: string, params: { lines?: number; since?: string } = {}): Promise<LogEntry[]> {
  return (
    await world.call("service.logs", {
      id,
      lines: params.lines ?? 100,
      ...(params.since ? { since: params.since } : {}),
    })
  ).logs;
}

describe("service.logs", () => {
  it("separates stdout and stderr, keeps Docker's timestamps and reads levels", async () => {
    const info = await world.container({ name: world.name("levels"), Cmd: ["/bin/sh", "-c", SCRIPT] });
    await until(async () => (await logsOf(info.Id)).length >= 6, 5_000, "six lines");
    const logs = await logsOf(info.Id);
    // Docker copies stdout and stderr on two goroutines: each stream keeps its order, the
    // interleaving of the two is the engine's.
    const shown = (stream: string) =>
      logs.filter((entry) => entry.stream === stream).map(({ message, level }) => ({ message, level }));
    expect(shown("stdout")).toEqual([
      { message: "service started", level: "info" },
      { message: "[warn] careful", level: "warn" },
      { message: "time=now level=debug msg=tick", level: "debug" },
      { message: '{"level":"error","msg":"json"}', level: "error" },
    ]);
    expect(shown("stderr")).toEqual([
      { message: "ERROR bad thing", level: "error" },
      { message: "plain stderr line", level: "warn" },
    ]);
    for (const stream of ["stdout", "stderr"]) {
      const times = logs.filter((entry) => entry.stream === stream).map((entry) => Date.parse(entry.timestamp));
      expect(times).toEqual([...times].sort((a, b) => a - b));
    }
    for (const entry of logs) {
      expect(entry.timestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
      expect(Math.abs(Date.parse(entry.timestamp) - Date.now())).toBeLessThan(60_000);
    }
  });

  it("returns the last `lines` lines and only those at or after `since`", async () => {
    const info = await world.container({
      name: world.name("since"),
      Cmd: ["/bin/sh", "-c", "echo one; echo two; echo three; sleep 1; echo four; echo five; sleep 86400"],
    });
    await until(async () => (await logsOf(info.Id)).length >= 5, 5_000, "five lines");
    expect((await logsOf(info.Id, { lines: 2 })).map((entry) => entry.message)).toEqual(["four", "five"]);

    const all = await logsOf(info.Id);
    const four = all.find((entry) => entry.message === "four");
    expect(four).toBeDefined();
    // The exact timestamp of a line asks for that line on (nanoseconds are kept).
    expect((await logsOf(info.Id, { since: four?.timestamp })).map((entry) => entry.message)).toEqual(["four", "five"]);
    const between = new Date(Date.parse(all[2]?.timestamp ?? "") + 1).toISOString();
    expect((await logsOf(info.Id, { since: between, lines: 1 })).map((entry) => entry.message)).toEqual(["five"]);
    expect(await logsOf(info.Id, { since: new Date(Date.now() + 60_000).toISOString() })).toEqual([]);
    expect((await kaiError(logsOf(info.Id, { since: "yesterday" }))).code).toBe("VALIDATION_ERROR");
  });

  it("reads a TTY container's plain stream as stdout without carriage returns", async () => {
    const info = await world.container({
      name: world.name("tty"),
      Tty: true,
      Cmd: ["/bin/sh", "-c", "echo 'WARN from a tty'; echo second; sleep 86400"],
    });
    await until(async () => (await logsOf(info.Id)).length >= 2, 5_000, "two lines");
    expect((await logsOf(info.Id)).map(({ message, level, stream }) => ({ message, level, stream }))).toEqual([
      { message: "WARN from a tty", level: "warn", stream: "stdout" },
      { message: "second", level: "info", stream: "stdout" },
    ]);
  });
});

describe("service.logs.follow", () => {
  it("streams a line written after it started, and ends when cancelled", async () => {
    const info = await world.container({
      name: world.name("follow"),
      Cmd: ["/bin/sh", "-c", "echo before; sleep 86400"],
    });
    await until(async () => (await logsOf(info.Id)).length >= 1, 5_000, "first line");
    const chunks: LogEntry[] = [];
    const controller = new AbortController();
    const following = world.call(
      "service.logs.follow",
      { id: info.Name.slice(1) },
      world.ctx({ signal: controller.signal, emit: (data) => chunks.push(data as LogEntry) }),
    );

    // Written straight to the container's stdout, the way its main process would.
    await new Promise((resolve) => setTimeout(resolve, 300));
    await exec(info.Id, "echo 'ERROR after follow' > /proc/1/fd/1; echo 'to stderr' > /proc/1/fd/2");
    await until(() => chunks.length >= 2, 5_000, "followed lines");
    controller.abort();
    expect(await following).toEqual({ ended: "cancelled", lines: 2 });
    // `before` was written before following began, and no history was asked for.
    expect(chunks.map(({ message, level, stream }) => ({ message, level, stream }))).toEqual(
      expect.arrayContaining([
        { message: "ERROR after follow", level: "error", stream: "stdout" },
        { message: "to stderr", level: "warn", stream: "stderr" },
      ]),
    );
  });

  it("sends `lines` of history first and ends when the container stops", async () => {
    const info = await world.container({
      name: world.name("stops"),
      Cmd: ["/bin/sh", "-c", "echo a; echo b; echo c; sleep 86400"],
    });
    await until(async () => (await logsOf(info.Id)).length >= 3, 5_000, "three lines");
    const chunks: LogEntry[] = [];
    const following = world.call(
      "service.logs.follow",
      { id: info.Id, lines: 2 },
      world.ctx({ emit: (data) => chunks.push(data as LogEntry) }),
    );
    await until(() => chunks.length >= 2, 5_000, "history");
    await world.docker.getContainer(info.Id).kill();
    expect(await following).toEqual({ ended: "container-stopped", lines: 2 });
    expect(chunks.map((entry) => entry.message)).toEqual(["b", "c"]);
  });

  it("answers container-stopped at once for a container that is not running", async () => {
    const info = await world.container({ name: world.name("done"), Cmd: ["/bin/sh", "-c", "echo only"] });
    await until(
      async () => (await world.docker.getContainer(info.Id).inspect()).State.Status === "exited",
      5_000,
      "exit",
    );
    const chunks: unknown[] = [];
    expect(
      await world.call(
        "service.logs.follow",
        { id: info.Id, lines: 10 },
        world.ctx({ emit: (data) => chunks.push(data) }),
      ),
    ).toEqual({ ended: "container-stopped", lines: 1 });
  });
});
