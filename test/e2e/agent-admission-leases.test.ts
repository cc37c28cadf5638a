import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { type Edge, startEdge } from "../support/edge-server";
import { enrollHost, type Session, signUp } from "../support/kai-client";
import { dialAgent, helloFrame } from "../support/raw-agent";

/**
 * Agent connects are admitted by completions: with AGENT_CONNECT_BURST 1 one connect at a
 * time is between its turn and its recorded hello, however fast the pace
 * (AGENT_CONNECT_RATE_PER_SECOND, here out of the way). The next dial waits until the one
 * before it said hello, or left without one.
 */

let edge: Edge;
let session: Session;
beforeAll(async () => {
  edge = await startEdge({ vars: { AGENT_CONNECT_RATE_PER_SECOND: "1000", AGENT_CONNECT_BURST: "1" } });
  session = await signUp(edge.url);
});
afterAll(async () => edge?.stop());

/** A dial that says nothing; `isOpen` tells whether it was let in yet. */
function waitingDial(token: string): { socket: WebSocket; opened: Promise<void>; isOpen: () => boolean } {
  const socket = new WebSocket(`${edge.url.replace("http", "ws")}/api/agent/connect`, {
    headers: { Authorization: `Bearer ${token}` },
  });
  let open = false;
  const opened = new Promise<void>((resolve, reject) => {
    socket.once("open", () => {
      open = true;
      resolve();
    });
    socket.once("error", reject);
    socket.once("unexpected-response", (_request, response) => reject(new Error(`HTTP ${response.statusCode}`)));
  });
  return { socket, opened, isOpen: () => open };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Two hosts of two users, so neither's turn is shared with the other's. */
async function twoHosts() {
  const other = await signUp(edge.url);
  const [first, second] = await Promise.all([enrollHost(session), enrollHost(other)]);
  if (!first || !second) throw new Error("enrolling failed");
  return { first, second };
}

describe("agent connect admission", () => {
  it("holds the next dial until the connect before it has said hello", async () => {
    const { first, second } = await twoHosts();
    const silent = await dialAgent(edge.url, first.token);
    const next = waitingDial(second.token);
    // Long enough for an open-loop pace of 1,000/s to have let it in many times over: it is still held.
    await sleep(1000);
    expect(next.isOpen()).toBe(false);
    silent.socket.send(helloFrame(silent.hostId));
    await next.opened;
    next.socket.terminate();
    silent.socket.terminate();
  }, 30_000);

  it("frees the turn of a dial that leaves without a hello", async () => {
    const { first, second } = await twoHosts();
    const silent = await dialAgent(edge.url, first.token);
    const next = waitingDial(second.token);
    await sleep(1000);
    expect(next.isOpen()).toBe(false);
    silent.socket.close(1000, "leaving");
    await next.opened;
    next.socket.terminate();
  }, 30_000);

  it("frees the turn of a dial refused for a first frame that is not a hello, though it never answers the close", async () => {
    const { first, second } = await twoHosts();
    const garbled = await dialAgent(edge.url, first.token);
    const next = waitingDial(second.token);
    await sleep(1000);
    expect(next.isOpen()).toBe(false);
    // It stops reading, so the edge's close is never answered and no close reaches the host's
    // object: only the refusal itself can free the turn, long before the lease's 15 s expiry.
    garbled.socket.send("not a frame");
    garbled.socket.pause();
    await Promise.race([
      next.opened,
      sleep(8000).then(() => {
        throw new Error("the refused dial's turn was not freed");
      }),
    ]);
    next.socket.terminate();
    garbled.socket.terminate();
  }, 30_000);
});
