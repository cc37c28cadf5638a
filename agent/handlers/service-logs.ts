import { Readable } from "node:stream";
import { KaiError } from "../../shared/errors";
import type { LogEntry } from "../../shared/schemas/services";
import { dockerError } from "../runtime/docker/client";
import { followLogs } from "../runtime/docker/log-socket";
import { LogDemuxer, toLogEntry } from "../runtime/docker/log-stream";
import { inspectService } from "./service-lookup";
import type { Handler, Handlers } from "./types";

/**
 * A service's logs, from Docker's log API with timestamps. Docker applies `since` and the
 * line count (`tail`) itself; both keep the newest lines, so together they mean "the last
 * `lines` lines written at or after `since`".
 */

const logs: Handler<"service.logs"> = async (params, ctx) => {
  const info = await inspectService(ctx, params.id);
  const since = params.since === undefined ? undefined : dockerSince(params.since);
  let raw: Buffer;
  try {
    raw = await ctx.docker.getContainer(info.Id).logs({
      follow: false,
      stdout: true,
      stderr: true,
      timestamps: true,
      tail: params.lines,
      ...(since ? { since } : {}),
      abortSignal: ctx.signal,
    });
  } catch (error) {
    throw dockerError(error);
  }
  const demuxer = new LogDemuxer({ tty: info.Config?.Tty ?? false });
  const lines = [...demuxer.push(Buffer.isBuffer(raw) ? raw : Buffer.from(String(raw))), ...demuxer.end()];
  return { logs: lines.map((line) => toLogEntry(line)) };
};

/**
 * Streams each new line as a chunk until the edge cancels (`cancelled`) or the container
 * stops (`container-stopped`, which is also the answer at once for a container that is not
 * running). `lines` first sends that many earlier lines (default none, or every line since
 * `since` when that is given).
 */
const follow: Handler<"service.logs.follow"> = async (params, ctx) => {
  const info = await inspectService(ctx, params.id);
  const since = params.since === undefined ? undefined : dockerSince(params.since);
  const tail = params.lines ?? (since ? undefined : 0);
  let stream: NodeJS.ReadableStream;
  try {
    stream = await followLogs(
      ctx.docker,
      info.Id,
      { follow: true, stdout: true, stderr: true, timestamps: true, tail, since },
      ctx.signal,
    );
  } catch (error) {
    if (ctx.signal.aborted) return { ended: "cancelled", lines: 0 };
    throw dockerError(error);
  }

  const demuxer = new LogDemuxer({ tty: info.Config?.Tty ?? false });
  let sent = 0;
  const send = (entries: LogEntry[]) => {
    for (const entry of entries) {
      ctx.emit(entry);
      sent += 1;
    }
  };
  const ending = await new Promise<"cancelled" | "ended" | Error>((resolve) => {
    const onAbort = () => resolve("cancelled");
    if (ctx.signal.aborted) return onAbort();
    ctx.signal.addEventListener("abort", onAbort, { once: true });
    stream.on("data", (chunk: Buffer) => send(demuxer.push(chunk).map((line) => toLogEntry(line))));
    stream.on("end", () => resolve("ended"));
    stream.on("close", () => resolve("ended"));
    stream.on("error", (error: Error) => resolve(error));
    stream.resume();
  });
  if (stream instanceof Readable) stream.destroy();
  if (ending === "cancelled" || ctx.signal.aborted) return { ended: "cancelled", lines: sent };
  send(demuxer.end().map((line) => toLogEntry(line)));
  // Docker ends a follow when the container stops; anything else ending it is a failure.
  const after = await inspectService(ctx, info.Id, params.id).catch(() => undefined);
  if (after?.State.Running) {
    throw new KaiError(
      "DOCKER_ERROR",
      `the log stream of ${params.id} ended while it still runs${ending instanceof Error ? `: ${ending.message}` : ""}`,
    );
  }
  return { ended: "container-stopped", lines: sent };
};

export const serviceLogHandlers = { "service.logs": logs, "service.logs.follow": follow } satisfies Pick<
  Handlers,
  "service.logs" | "service.logs.follow"
>;

/**
 * Docker's `since` is Unix seconds with an optional fraction; RFC 3339 times are converted
 * with their nanoseconds kept, so the timestamp of a line asks for exactly that line on.
 */
function dockerSince(value: string): string {
  if (/^\d+(\.\d{1,9})?$/.test(value)) return value;
  const match = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/i.exec(value);
  const seconds = match ? Date.parse(`${match[1]}${match[3]}`) / 1000 : Number.NaN;
  if (!match || Number.isNaN(seconds))
    throw new KaiError(
      "VALIDATION_ERROR",
      `since must be an RFC 3339 time such as 2025-05-01T00:00:00Z, not ${JSON.stringify(value)}`,
    );
  return `${Math.max(0, seconds)}.${(match[2] ?? "").padEnd(9, "0")}`;
}
