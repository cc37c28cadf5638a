import { SELF, env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { PROTOCOL_VERSION } from "../../../shared/protocol";
import { BASE, call, registerUser, unique } from "../../worker/helpers";

/**
 * The hello is recorded in D1 before the socket counts as an agent's: when that write fails,
 * the socket is closed (1011, which kai-agent answers by dialling again) before any welcome,
 * instead of being relayed to while it was never welcomed. Driven on the real Durable Object
 * with a raw socket, and a real D1 failure (a trigger that aborts the update of this host's row).
 */

interface Dialled {
  socket: WebSocket;
  frames: unknown[];
  closed: Promise<{ code: number; reason: string }>;
}

async function dial(token: string): Promise<Dialled> {
  const response = await SELF.fetch(`${BASE}/api/agent/connect`, { headers: { Upgrade: "websocket", Authorization: `Bearer ${token}` } });
  expect(response.status).toBe(101);
  const socket = response.webSocket;
  if (!socket) throw new Error("no WebSocket in the 101 answer");
  socket.accept();
  const frames: unknown[] = [];
  socket.addEventListener("message", (event) => {
    frames.push(JSON.parse(String(event.data)));
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => socket.addEventListener("close", (event) => resolve({ code: event.code, reason: event.reason })));
  return { socket, frames, closed };
}

const hello = (hostId: string) =>
  JSON.stringify({
    type: "hello",
    protocolVersion: PROTOCOL_VERSION,
    agentVersion: "test",
    hostId,
    capabilities: [],
    docker: { ok: true, version: "test" },
    os: "test",
    arch: "test",
    hostname: "test",
  });

describe("a D1 failure while an agent says hello", () => {
  it("closes the socket with 1011 and no welcome; the next dial, with D1 back, is welcomed", async () => {
    const user = await registerUser();
    const enrolled = await call("/api/hosts", { body: { name: unique("h") }, token: user.accessToken });
    const { host, token } = ((await enrolled.json()) as { data: { host: { id: string }; token: string } }).data;

    const first = await dial(token);
    // A real D1 failure for this host's row only (other test files may share the database).
    const trigger = `fail_hello_${host.id.replaceAll("-", "_")}`;
    await env.DB.exec(`CREATE TRIGGER ${trigger} BEFORE UPDATE ON hosts WHEN NEW.id = '${host.id}' BEGIN SELECT RAISE(ABORT, 'injected D1 failure'); END;`);
    try {
      first.socket.send(hello(host.id));
      const closed = await first.closed;
      expect(closed.code).toBe(1011);
      expect(first.frames).toEqual([]);
    } finally {
      await env.DB.exec(`DROP TRIGGER ${trigger}`);
    }

    const second = await dial(token);
    second.socket.send(hello(host.id));
    await expect.poll(() => second.frames).toEqual([expect.objectContaining({ type: "welcome", hostId: host.id })]);
    const session = await call(`/api/hosts/${host.id}/session`, { token: user.accessToken });
    expect(((await session.json()) as { data: { connected: boolean } }).data.connected).toBe(true);
    second.socket.close(1000, "done");
  });
});
