import { DurableObject } from "cloudflare:workers";

/**
 * The bare baseline of the fleet benchmark's memory figure: `GET /?id=N` with an Upgrade
 * header gets a hibernatable WebSocket held by the Durable Object named N, which does
 * nothing with it. What this costs per socket is the platform's floor; Kai's host relay
 * costs that plus whatever it keeps per agent.
 */
export class Noop extends DurableObject {
  override async fetch(): Promise<Response> {
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server);
    return new Response(null, { status: 101, webSocket: client });
  }
}

interface Env {
  NOOP: DurableObjectNamespace<Noop>;
}

export default {
  fetch(request, env) {
    const name = new URL(request.url).searchParams.get("id") ?? "0";
    return env.NOOP.get(env.NOOP.idFromName(name)).fetch(request);
  },
} satisfies ExportedHandler<Env>;
