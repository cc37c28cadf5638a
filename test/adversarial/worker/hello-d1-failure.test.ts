import { describe, expect, it } from "vitest";
import { dial, enrolledHost, failHostUpdates, hello } from "../../worker/agent-socket";
import { call } from "../../worker/helpers";

/**
 * The hello is recorded in D1 before the socket counts as an agent's: when that write fails,
 * the socket is closed (1011, which kai-agent answers by dialling again) before any welcome,
 * instead of being relayed to while it was never welcomed. Driven on the real Durable Object
 * with a raw socket, and a real D1 failure (a trigger that aborts the update of this host's row).
 */
describe("a D1 failure while an agent says hello", () => {
  it("closes the socket with 1011 and no welcome; the next dial, with D1 back, is welcomed", async () => {
    const { user, host, token } = await enrolledHost();

    const first = await dial(token);
    const restore = await failHostUpdates(host.id);
    try {
      first.socket.send(hello(host.id));
      const closed = await first.closed;
      expect(closed.code).toBe(1011);
      expect(first.frames).toEqual([]);
    } finally {
      await restore();
    }

    const second = await dial(token);
    second.socket.send(hello(host.id));
    await expect.poll(() => second.frames).toEqual([expect.objectContaining({ type: "welcome", hostId: host.id })]);
    const session = await call(`/api/hosts/${host.id}/session`, { token: user.accessToken });
    expect(((await session.json()) as { data: { connected: boolean } }).data.connected).toBe(true);
    second.socket.close(1000, "done");
  });
});
