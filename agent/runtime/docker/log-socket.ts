import net from "node:net";
import type Docker from "dockerode";

/**
 * A container's log follow read straight off the engine's local socket. Through dockerode,
 * Node's HTTP client parses Docker's chunked answer and pushes every chunk through the
 * response stream; Docker flushes each log line as a chunk of its own, so that cost about
 * 4 µs of the agent's CPU per line (100 000 lines: 467 ms through node:http against 178 ms
 * read raw), on a machine whose cores the log's producer needs. Asked in HTTP/1.0, the
 * engine (Go's net/http) sends the body unchunked and closes the connection at its end, so
 * each read of the socket is a few KiB of the multiplexed log itself.
 *
 * Only for a local socket (the default and `--docker-socket`): an engine over TCP or TLS
 * keeps dockerode's path, whose transports this does not repeat.
 */

export interface FollowOptions {
  follow: true;
  stdout: boolean;
  stderr: boolean;
  timestamps: boolean;
  tail?: number | undefined;
  since?: string | undefined;
}

/** Bytes of response head read before giving up on an answer that is not HTTP. */
const MAX_HEAD_BYTES = 64 * 1024;
/** Of an error answer's body (the engine's `{"message": …}`), what is kept. */
const MAX_ERROR_BYTES = 64 * 1024;
/** The engine answers a log request's head at once, follow or not; a silent socket is not an engine. */
const HEAD_TIMEOUT_MS = 30_000;
const HEAD_END = Buffer.from("\r\n\r\n");

/** A response head: its status and its headers, names in lower case. */
interface Head {
  status: number;
  headers: Map<string, string>;
}

/**
 * The log body as a stream, paused: attach listeners, then `resume()` it. Rejects as
 * dockerode does (an error with the engine's `statusCode` and `json` body, or the socket's
 * own error), so `dockerError` reads both alike.
 */
export async function followLogs(
  docker: Docker,
  id: string,
  options: FollowOptions,
  signal: AbortSignal,
): Promise<NodeJS.ReadableStream> {
  const given = Object.entries(options).filter(([, value]) => value !== undefined);
  const throughDockerode = async () => {
    const stream = await docker
      .getContainer(id)
      .logs({ ...Object.fromEntries(given), follow: true, abortSignal: signal });
    stream.pause();
    return stream;
  };
  const modem = docker.modem as { socketPath?: unknown; version?: unknown };
  // docker-modem's default is a function that finds the socket (~/.docker/run or /var/run).
  const socketPath = typeof modem.socketPath === "function" ? await modem.socketPath() : modem.socketPath;
  if (typeof socketPath !== "string") return throughDockerode();
  const query = new URLSearchParams(given.map(([key, value]): [string, string] => [key, String(value)]));
  const prefix = typeof modem.version === "string" && modem.version ? `/${modem.version}` : "";
  const path = `${prefix}/containers/${encodeURIComponent(id)}/logs?${query}`;
  const body = await openBody(socketPath, `GET ${path} HTTP/1.0\r\nHost: docker\r\n\r\n`, signal);
  // Something between us and the engine (a proxy socket) chunked the answer anyway: its framing
  // would corrupt the log, and de-chunking is what node:http is for.
  return body === "chunked" ? throughDockerode() : body;
}

/** The socket positioned at the body of a 200, or "chunked" when that body is chunked. */
function openBody(socketPath: string, request: string, signal: AbortSignal): Promise<net.Socket | "chunked"> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(socketPath);
    let pending: Buffer = Buffer.alloc(0);
    const settle = () => {
      signal.removeEventListener("abort", onAbort);
      socket.off("data", onData);
      socket.off("end", onEnd);
      socket.off("timeout", onTimeout);
      socket.setTimeout(0);
    };
    const fail = (error: Error) => {
      settle();
      socket.destroy();
      reject(error);
    };
    const onAbort = () => fail(Object.assign(new Error("the log follow was cancelled"), { name: "AbortError" }));
    const onEnd = () => fail(new Error("the Docker engine closed the log follow before answering"));
    const onTimeout = () =>
      fail(new Error(`the Docker engine did not answer the log follow within ${HEAD_TIMEOUT_MS} ms`));
    const onData = (chunk: Buffer) => {
      pending = pending.length > 0 ? Buffer.concat([pending, chunk]) : chunk;
      for (;;) {
        const end = pending.indexOf(HEAD_END);
        if (end < 0) {
          if (pending.length > MAX_HEAD_BYTES) fail(new Error("the Docker engine's answer has no end of headers"));
          return;
        }
        const head = parseHead(pending.toString("latin1", 0, end));
        const rest = pending.subarray(end + HEAD_END.length);
        // An interim answer (100 Continue) is followed by the real one.
        if (head.status >= 100 && head.status < 200) {
          pending = rest;
          continue;
        }
        settle();
        socket.pause();
        if (head.status !== 200) {
          socket.off("error", fail);
          void refusal(socket, head, rest, signal).then(reject, reject);
          return;
        }
        if (head.headers.has("transfer-encoding")) {
          socket.off("error", fail);
          socket.destroy();
          resolve("chunked");
          return;
        }
        socket.off("error", fail);
        if (rest.length > 0) socket.unshift(rest);
        resolve(socket);
        return;
      }
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    socket.once("error", fail);
    socket.setTimeout(HEAD_TIMEOUT_MS);
    socket.on("timeout", onTimeout);
    socket.once("connect", () => socket.write(request));
    socket.on("data", onData);
    socket.once("end", onEnd);
  });
}

/** The status line and headers of one response head (without its blank line). */
function parseHead(text: string): Head {
  const [statusLine = "", ...lines] = text.split("\r\n");
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0);
  const headers = new Map<string, string>();
  for (const line of lines) {
    const colon = line.indexOf(":");
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return { status, headers };
}

/**
 * An error answer as dockerode reports it: its JSON body (`{"message": …}`), read up to its
 * Content-Length (the engine may keep the connection open after it), else to the end, and
 * never more than MAX_ERROR_BYTES; then the socket is closed. A cancel, or HEAD_TIMEOUT_MS in
 * all (an engine that stalls or trickles mid-body, as one that never answered), ends the read
 * with what arrived.
 */
async function refusal(socket: net.Socket, head: Head, start: Buffer, signal: AbortSignal): Promise<Error> {
  const declared = Number(head.headers.get("content-length"));
  const wanted = Math.min(Number.isFinite(declared) && declared >= 0 ? declared : MAX_ERROR_BYTES, MAX_ERROR_BYTES);
  const parts = [start];
  let got = start.length;
  const stop = () => socket.destroy();
  const deadline = setTimeout(stop, HEAD_TIMEOUT_MS);
  signal.addEventListener("abort", stop, { once: true });
  try {
    if (signal.aborted) stop();
    if (got < wanted) {
      socket.resume();
      for await (const chunk of socket) {
        parts.push(chunk as Buffer);
        got += (chunk as Buffer).length;
        if (got >= wanted) break;
      }
    }
  } catch {
    // What arrived before the socket failed is all the engine said.
  } finally {
    clearTimeout(deadline);
    signal.removeEventListener("abort", stop);
    socket.destroy();
  }
  const text = Buffer.concat(parts).subarray(0, wanted).toString("utf8");
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const status = head.status;
  return Object.assign(new Error(`(HTTP code ${status}) ${text.trim()}`), { statusCode: status, json });
}
