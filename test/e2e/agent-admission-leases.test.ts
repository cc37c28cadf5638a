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

/** A dial that records when it opened; it says nothing. */
function waitingDial(token: string): { socket: WebSocket; opened: Promise<number> } {
  const socket = new WebSocket(`${edge.url.replace("http", "ws")}/api/agent/connect`, {
    headers: { Authorization: `Bearer ${token}` },
  });
  const opened = new Promise<number>((resolve, reject) => {
    socket.once("open", () => resolve(performance.now()));
    socket.once("error", reject);
    socket.once("unexpected-response", (_request, response) => reject(new Error(`HTTP ${response.statusCode}`)));
  });
  return { socket, opened };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("agent connect admission", () => {
  it("holds the next dial until the connect before it has said hello", async () => {
    const [first, second] = await Promise.all([enrollHost(session), enrollHost(session)]);
    if (!first || !second) throw new Error("enrolling failed");
    const silent = await dialAgent(edge.url, first.token);
    const next = waitingDial(second.token);
    // Long enough for an open-loop pace of 1,000/s to have let it in many times over.
    await sleep(1000);
    const helloAt = performance.now();
    silent.socket.send(helloFrame(silent.hostId));
    const openedAt = await next.opened;
    expect(openedAt).toBeGreaterThan(helloAt);
    next.socket.terminate();
    silent.socket.terminate();
  }, 30_000);

  it("frees the turn of a dial that leaves without a hello", async () => {
    const [first, second] = await Promise.all([enrollHost(session), enrollHost(session)]);
    if (!first || !second) throw new Error("enrolling failed");
    const silent = await dialAgent(edge.url, first.token);
    const next = waitingDial(second.token);
    await sleep(1000);
    const leftAt = performance.now();
    silent.socket.close(1000, "leaving");
    const openedAt = await next.opened;
    expect(openedAt).toBeGreaterThan(leftAt);
    next.socket.terminate();
  }, 30_000);
});
