import fs from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";

/**
 * A counting proxy in front of the Docker socket: a unix-socket server that forwards bytes
 * both ways and records every HTTP request line (method and path) and every connection. A
 * test gives a handler a dockerode client pointed at `socketPath` and can then prove that a
 * refused request never reached the engine.
 */
export interface DockerProxy {
  socketPath: string;
  /** `"POST /v1.41/containers/create?name=x"`, in order. */
  requests: string[];
  /** Connections opened by clients, in case a request line were ever split across packets. */
  connections: number;
  /** Responses the engine has begun (their status lines): a request is answered once this catches up with it. */
  answered: number;
  reset(): void;
  /** Cuts every open connection, as an engine restart would; the proxy keeps listening. */
  dropConnections(): void;
  /** Requests whose line (`GET /v1.41/events?…`) matches are cut before they reach the engine. */
  refuse: RegExp | undefined;
  close(): Promise<void>;
}

const REQUEST_LINE = /(?:^|\r\n)(GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS) (\S+) HTTP\/1\.[01]\r\n/g;
const STATUS_LINE = /(?:^|\r\n)HTTP\/1\.[01] \d{3} /g;

/** The engine's socket: `DOCKER_HOST` when it is a unix socket, else the default path. */
export function engineSocket(): string {
  const host = process.env.DOCKER_HOST;
  return host?.startsWith("unix://") ? host.slice("unix://".length) : "/var/run/docker.sock";
}

export async function startDockerProxy(upstream: string = engineSocket()): Promise<DockerProxy> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "kai-proxy-"));
  const socketPath = path.join(dir, "docker.sock");
  const open = new Set<net.Socket>();
  const proxy: DockerProxy = {
    socketPath,
    requests: [],
    connections: 0,
    answered: 0,
    refuse: undefined,
    reset() {
      proxy.requests.length = 0;
      proxy.connections = 0;
      proxy.answered = 0;
    },
    dropConnections() {
      for (const socket of open) socket.destroy();
    },
    async close() {
      for (const socket of open) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await fs.rm(dir, { recursive: true, force: true });
    },
  };

  const server = net.createServer((client) => {
    proxy.connections += 1;
    const engine = net.createConnection(upstream);
    for (const socket of [client, engine]) {
      open.add(socket);
      socket.on("close", () => open.delete(socket));
      socket.on("error", () => {
        client.destroy();
        engine.destroy();
      });
    }
    client.on("data", (chunk: Buffer) => {
      for (const match of chunk.toString("latin1").matchAll(REQUEST_LINE)) {
        const line = `${match[1]} ${match[2]}`;
        if (proxy.refuse?.test(line)) {
          client.destroy();
          engine.destroy();
          return;
        }
        proxy.requests.push(line);
      }
    });
    engine.on("data", (chunk: Buffer) => {
      proxy.answered += chunk.toString("latin1").match(STATUS_LINE)?.length ?? 0;
    });
    client.pipe(engine);
    engine.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(socketPath, () => resolve());
  });
  return proxy;
}
