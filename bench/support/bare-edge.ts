import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import WebSocket from "ws";
import { startDevWorker } from "../../test/support/dev-worker";
import type { Scope } from "./scope";

/**
 * The bare baseline Worker (bench/support/bare-ws/) on local workerd, started the way
 * test/support/edge-server.ts starts Kai's, and plain WebSockets to it: what holding idle
 * sockets costs the runtime when the Durable Object keeps nothing per socket.
 */
export async function startBareEdge(scope: Scope): Promise<{ url: string; workerUrl: string }> {
  const persist = await mkdtemp(path.join(os.tmpdir(), "kai-bench-bare-"));
  scope.defer("bare edge state dir", () => rm(persist, { recursive: true, force: true }));
  const worker = await startDevWorker({
    config: path.join(import.meta.dirname, "bare-ws", "wrangler.toml"),
    dev: {
      server: { hostname: "127.0.0.1", port: 0 },
      inspector: false,
      persist,
      watch: false,
      logLevel: "warn",
    },
  });
  scope.defer("bare edge (workerd)", () => worker.dispose());
  return { url: worker.url, workerUrl: worker.workerUrl };
}

/** Opens `count` sockets to the bare edge, `concurrency` handshakes at a time, each to its own object. */
export async function openBareSockets(url: string, count: number, concurrency = 50): Promise<WebSocket[]> {
  const sockets: WebSocket[] = [];
  for (let batch = 0; batch < count; batch += concurrency) {
    const size = Math.min(concurrency, count - batch);
    const opened = await Promise.all(
      Array.from({ length: size }, (_, index) => {
        const socket = new WebSocket(`${url.replace("http", "ws")}/?id=${batch + index}`, { perMessageDeflate: false });
        return new Promise<WebSocket>((resolve, reject) => {
          socket.once("open", () => resolve(socket));
          socket.once("error", reject);
        });
      }),
    );
    sockets.push(...opened);
  }
  return sockets;
}
