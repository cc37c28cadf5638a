import { DurableObject } from "cloudflare:workers";

/**
 * The bare baselines of the edge benchmarks, on the same runtime as Kai's Worker:
 *
 * - `GET /?id=N` with an Upgrade header gets a hibernatable WebSocket held by the Durable
 *   Object named N, which does nothing with it (`Noop`). What this costs per socket is the
 *   platform's floor of the fleet benchmark's memory figure; Kai's host relay costs that plus
 *   whatever it keeps per agent.
 * - `/echo/*` is the floor of a relayed call (`Echo`): one socket from a process that answers
 *   each frame (bench/support/bare-ws/echo-agent.ts), `/echo/relay` sends a frame on it and
 *   answers once the reply is back, `/echo/noop` calls the same object and returns at once.
 *   Their difference is what a Worker → Durable Object → WebSocket → process round trip
 *   costs before any of Kai's own work (authentication, D1, validation, audit).
 */
export class Noop extends DurableObject {
  override async fetch(): Promise<Response> {
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server);
    return new Response(null, { status: 101, webSocket: client });
  }
}

export class Echo extends DurableObject {
  readonly #waiting = new Map<string, (reply: string) => void>();

  override async fetch(): Promise<Response> {
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server);
    return new Response(null, { status: 101, webSocket: client });
  }

  async noop(): Promise<string> {
    return "{}";
  }

  async relay(): Promise<string> {
    const socket = this.ctx.getWebSockets()[0];
    if (!socket) throw new Error("no echo process is connected");
    const id = crypto.randomUUID();
    const reply = new Promise<string>((resolve) => this.#waiting.set(id, resolve));
    socket.send(JSON.stringify({ type: "req", id, op: "ping", params: {} }));
    return reply;
  }

  override async webSocketMessage(_socket: WebSocket, message: string | ArrayBuffer): Promise<void> {
    const text = typeof message === "string" ? message : new TextDecoder().decode(message);
    const { id } = JSON.parse(text) as { id: string };
    this.#waiting.get(id)?.(text);
    this.#waiting.delete(id);
  }
}

interface Env {
  NOOP: DurableObjectNamespace<Noop>;
  ECHO: DurableObjectNamespace<Echo>;
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname.startsWith("/echo/")) {
      const echo = env.ECHO.get(env.ECHO.idFromName("echo"));
      if (url.pathname === "/echo/connect") return echo.fetch(request);
      const body = url.pathname === "/echo/relay" ? await echo.relay() : await echo.noop();
      return new Response(body, { headers: { "content-type": "application/json" } });
    }
    const name = url.searchParams.get("id") ?? "0";
    return env.NOOP.get(env.NOOP.idFromName(name)).fetch(request);
  },
} satisfies ExportedHandler<Env>;
