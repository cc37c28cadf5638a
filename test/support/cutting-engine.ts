import fs from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";

/**
 * A unix socket in place of the Docker engine's that accepts every connection and cuts it as
 * its request arrives, as a socket proxy whose engine is gone, or a broken engine, does: each
 * request fails with ECONNRESET or EPIPE, never with the ECONNREFUSED of a stopped engine.
 * With `eventStreamMs`, a `GET …/events` is answered instead, its stream left open that long
 * and then cut: an event stream that keeps dropping moments after it opened.
 */
export interface CuttingEngine {
  socketPath: string;
  /** Every request line (`GET /version`), and when it came and (an event stream) was cut, in ms since the start. */
  requests: { line: string; atMs: number; cutAtMs?: number }[];
  /** How many requests' lines match. */
  count(line: RegExp): number;
  close(): Promise<void>;
}

export async function startCuttingEngine(options: { eventStreamMs?: number } = {}): Promise<CuttingEngine> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "kai-cutting-"));
  const socketPath = path.join(dir, "docker.sock");
  const started = performance.now();
  const open = new Set<net.Socket>();
  const requests: CuttingEngine["requests"] = [];
  const server = net.createServer((connection) => {
    open.add(connection);
    connection.on("close", () => open.delete(connection));
    connection.on("error", () => connection.destroy());
    connection.once("data", (chunk: Buffer) => {
      const line =
        chunk
          .toString("latin1")
          .split("\r\n")[0]
          ?.replace(/ HTTP\/1\.[01]$/, "") ?? "";
      const request: CuttingEngine["requests"][number] = { line, atMs: performance.now() - started };
      requests.push(request);
      if (options.eventStreamMs === undefined || !/^GET \S*\/events/.test(line)) {
        connection.destroy();
        return;
      }
      connection.write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
      setTimeout(() => {
        request.cutAtMs = performance.now() - started;
        connection.destroy();
      }, options.eventStreamMs);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(socketPath, () => resolve());
  });
  return {
    socketPath,
    requests,
    count: (line) => requests.filter((request) => line.test(request.line)).length,
    async close() {
      for (const connection of open) connection.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}
