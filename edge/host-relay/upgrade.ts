/**
 * The request a Worker hands to a HostRelay for a WebSocket upgrade: only the handshake
 * headers of the client's request, plus Kai's own. Nothing else the client sent reaches
 * the Durable Object, so a client cannot pose as a viewer or another host by adding the
 * internal `X-Kai-*` headers itself.
 *
 * `Sec-WebSocket-Extensions` is left out on purpose: without it the runtime does not
 * negotiate permessage-deflate. Kai's frames are small JSON (a log line, a file event), for
 * which compressing each one costs the edge and the client more CPU than it saves on the
 * wire; it was a third of the CPU of a busy log stream. The agent's link skips it too.
 */
const HANDSHAKE = ["upgrade", "connection", "sec-websocket-key", "sec-websocket-version", "sec-websocket-protocol"];

export function upgradeRequest(client: Request, internal: Record<string, string>): Request {
  const headers = new Headers();
  for (const name of HANDSHAKE) {
    const value = client.headers.get(name);
    if (value !== null) headers.set(name, value);
  }
  for (const [name, value] of Object.entries(internal)) headers.set(name, value);
  return new Request(client.url, { method: "GET", headers });
}
