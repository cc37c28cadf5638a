import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { type Edge, startEdge } from "../support/edge-server";
import { enrollHost, signUp } from "../support/kai-client";
import { helloFrame } from "../support/raw-agent";

/**
 * The edge paces agent connections (AGENT_CONNECT_RATE_PER_SECOND after a burst of
 * AGENT_CONNECT_BURST): a herd of agents dialling at once, as after an edge restart, is let
 * in one at a time, and a dial whose turn is more than 10 s away is told when to come back.
 * Each dial says hello as kai-agent does: a turn is held until its hello is recorded.
 */

let edge: Edge;
beforeAll(async () => {
  edge = await startEdge({ vars: { AGENT_CONNECT_RATE_PER_SECOND: "1", AGENT_CONNECT_BURST: "1" } });
});
afterAll(async () => edge?.stop());

type Dial = { socket: WebSocket; openedAt?: number; status?: number; retryAfter?: string };

function dial(token: string): Promise<Dial> {
  const socket = new WebSocket(`${edge.url.replace("http", "ws")}/api/agent/connect`, {
    headers: { Authorization: `Bearer ${token}` },
  });
  let hostId = "";
  socket.once("upgrade", (response) => (hostId = String(response.headers["x-kai-host-id"])));
  return new Promise((resolve) => {
    socket.once("open", () => {
      socket.send(helloFrame(hostId));
      resolve({ socket, openedAt: performance.now() });
    });
    socket.once("unexpected-response", (_request, response) => {
      resolve({ socket, status: response.statusCode, retryAfter: String(response.headers["retry-after"]) });
      socket.terminate();
    });
    socket.once("error", () => undefined);
  });
}

describe("agent connection pacing", () => {
  it("lets a herd in one per turn, and sends those whose turn is too far off away with Retry-After", async () => {
    // One host per user: the herd is many users' machines, each queued in arrival order.
    const users = await Promise.all(Array.from({ length: 13 }, () => signUp(edge.url)));
    const hosts = await Promise.all(users.map((user) => enrollHost(user)));
    const dials = await Promise.all(hosts.map((host) => dial(host.token)));
    for (const one of dials) one.socket.terminate();

    const admitted = dials.flatMap((one) => (one.openedAt === undefined ? [] : [one.openedAt])).sort((a, b) => a - b);
    const refused = dials.filter((one) => one.status !== undefined);
    // At 1 per second with turns held up to 10 s: eleven turns (0 s … 10 s), the rest refused.
    expect(admitted).toHaveLength(11);
    expect(refused.map((one) => one.status)).toEqual([429, 429]);
    for (const one of refused) expect(Number(one.retryAfter)).toBeGreaterThanOrEqual(1);
    const gaps = admitted.slice(1).map((at, index) => at - (admitted[index] ?? at));
    for (const gap of gaps) expect(gap).toBeGreaterThan(800);
    expect((admitted.at(-1) ?? 0) - (admitted[0] ?? 0)).toBeGreaterThan(9000);
  }, 30_000);
});
