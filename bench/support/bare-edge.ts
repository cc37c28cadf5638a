import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import WebSocket from "ws";
import { startDevWorker } from "../../test/support/dev-worker";
import type { Scope } from "./scope";

/**
 * The bare baseline Worker (bench/support/bare-ws/) on local workerd, started the way
 * test/support/edge-server.ts starts Kai's, and plain WebSockets to it: what holding idle
 * sockets costs the runtime when the Durable Object keeps nothing per socket, and what a
 * relayed round trip costs before any of Kai's own work (`startEchoAgent`).
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

/**
 * Connects the bare edge's echo agent (bare-ws/echo-agent.ts, a process of its own as
 * kai-agent is), so `GET {workerUrl}/echo/relay` makes a round trip through it and
 * `/echo/noop` reaches the same Durable Object without one.
 */
export async function startEchoAgent(scope: Scope, workerUrl: string): Promise<void> {
  const script = path.join(import.meta.dirname, "bare-ws", "echo-agent.ts");
  const socketUrl = new URL("/echo/connect", workerUrl.replace(/^http/, "ws")).href;
  const child = spawn(process.execPath, ["--import", "tsx", script, socketUrl], {
    cwd: path.resolve(import.meta.dirname, "..", ".."),
    stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  scope.defer("bare echo agent", async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await exited;
  });
  await new Promise<void>((resolve, reject) => {
    if (!child.stdout) return reject(new Error("the echo agent has no stdout"));
    createInterface({ input: child.stdout }).once("line", () => resolve());
    child.once("exit", (code) => reject(new Error(`the echo agent exited (${code}) before connecting`)));
  });
}
