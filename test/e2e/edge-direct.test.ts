import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { descendantPids, workerPids } from "../../bench/support/cpu-meter";
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

describe("the benchmarks' CPU and memory meters", () => {
  it("count the process that serves the Worker's address as the Worker, and the proxy's apart", () => {
    const worker = listenerOf(Number(new URL(edge.workerUrl).port));
    const proxy = listenerOf(Number(new URL(edge.url).port));
    expect(worker).toBeDefined();
    expect(proxy).toBeDefined();
    expect(worker).not.toBe(proxy);
    // Other test files' edges may run under this process too: only these two are looked at.
    expect(workerPids()).toContain(worker);
    expect(workerPids()).not.toContain(proxy);
  });
});

/** The process under this one that listens on `port` on loopback (from /proc/net/tcp and the processes' fds). */
function listenerOf(port: number): number | undefined {
  const inodes = new Set<string>();
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text = "";
    try {
      text = readFileSync(table, "utf8");
    } catch {
      continue; // no IPv6 here
    }
    for (const line of text.split("\n").slice(1)) {
      const fields = line.trim().split(/\s+/);
      const [, localPort] = (fields[1] ?? "").split(":");
      // State 0A is LISTEN; the inode is the tenth field.
      if (fields[3] === "0A" && Number.parseInt(localPort ?? "", 16) === port && fields[9]) inodes.add(fields[9]);
    }
  }
  return descendantPids(process.pid).find((pid) => {
    try {
      return readdirSync(`/proc/${pid}/fd`).some((fd) => {
        const target = readlinkSync(`/proc/${pid}/fd/${fd}`, { encoding: "utf8" });
        return inodes.has(target.replace(/^socket:\[(\d+)\]$/, "$1"));
      });
    } catch {
      return false; // gone meanwhile, or not ours to read
    }
  });
}
