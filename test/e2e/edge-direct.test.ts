import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Edge, startEdge } from "../support/edge-server";
import { enrollHost, request, signUp } from "../support/kai-client";
import { dialAgent, helloFrame } from "../support/raw-agent";

/**
 * The fleet benchmark talks to the Worker's own workerd (Edge.workerUrl), not through
 * wrangler's dev proxy (Edge.url), as production has no such proxy: the address must be the
 * Worker's, a different process, and serve the API and an agent's socket on the same state.
 */

let edge: Edge;
beforeAll(async () => {
  edge = await startEdge();
});
afterAll(async () => edge?.stop());

describe("the Worker's own address", () => {
  it("is not the dev proxy's, and serves the API and agents on the edge's state", async () => {
    expect(new URL(edge.workerUrl).port).not.toBe(new URL(edge.url).port);

    // Signed up straight at the Worker, read back through the proxy: one edge, one database.
    const session = await signUp(edge.workerUrl);
    const host = await enrollHost(session);
    const listed = await request(edge.url, "/api/hosts", { token: session.token });
    expect(listed.body.data.hosts.map((one: { id: string }) => one.id)).toContain(host.id);

    const agent = await dialAgent(edge.workerUrl, host.token);
    expect(agent.hostId).toBe(host.id);
    const pong = new Promise<string>((resolve) =>
      agent.socket.on("message", (data) => data.toString() === "pong" && resolve("pong")),
    );
    agent.socket.send(helloFrame(agent.hostId));
    agent.socket.send("ping");
    expect(await pong).toBe("pong");
    agent.socket.close();
  });
});
