/**
 * Agent versions against the real Worker: an agent older than the release the edge serves
 * connects and is marked outdated (REST and the user feed), the current one is not; a hello in
 * a protocol the edge no longer speaks is closed with VERSION_UNSUPPORTED and a reason that says
 * how to upgrade. The old agent is a real bundle built with an older version, run with Node.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLOSE_CODES, MIN_PROTOCOL_VERSION, PROTOCOL_VERSION } from "../../shared/protocol";
import type { Host } from "../../shared/schemas/hosts";
import { AGENT_RELEASE } from "../../shared/version";
import { AgentProcess } from "../support/agent-process";
import { type Edge, startEdge } from "../support/edge-server";
import { FeedViewer } from "../support/feed-viewer";
import { enrollHost, request, type Session, signUp } from "../support/kai-client";
import { buildOldAgent, OLD_AGENT_VERSION } from "../support/old-agent";
import { dialAgent, helloFrame } from "../support/raw-agent";

let edge: Edge;
let session: Session;
let oldBundle: string;
let root: string;
const agents: AgentProcess[] = [];

beforeAll(async () => {
  [edge, oldBundle] = await Promise.all([startEdge(), buildOldAgent()]);
  session = await signUp(edge.url);
  root = await mkdtemp(path.join(os.tmpdir(), "kai-versions-"));
});
afterAll(async () => {
  for (const agent of agents) await agent.stop();
  await edge?.stop();
  for (const dir of [root, oldBundle && path.dirname(oldBundle)])
    if (dir) await rm(dir, { recursive: true, force: true });
});

async function listedHost(id: string): Promise<Host | undefined> {
  const res = await request<{ data: { hosts: Host[] } }>(edge.url, "/api/hosts", { token: session.token });
  expect(res.status).toBe(200);
  return res.body.data.hosts.find((host) => host.id === id);
}

function startAgent(token: string, bundle?: string): AgentProcess {
  const agent = new AgentProcess(edge.url, token, [root], [], bundle);
  agents.push(agent);
  return agent;
}

describe("an agent older than the served release", () => {
  it("connects, is marked outdated with the served version, and is not once the current agent replaces it", async () => {
    const host = await enrollHost(session);
    const feed = await FeedViewer.open(edge.url, session.token);
    try {
      const old = startAgent(host.token, oldBundle);
      await old.connected();
      expect(await listedHost(host.id)).toMatchObject({
        online: true,
        agentVersion: OLD_AGENT_VERSION,
        outdated: true,
        latestAgentVersion: AGENT_RELEASE,
      });
      const online = (outdated: boolean) => (frame: { type: string; hostId?: string; outdated?: boolean }) =>
        frame.type === "host.online" && frame.hostId === host.id && frame.outdated === outdated;
      expect(await feed.waitFor(online(true), "host.online, outdated")).toMatchObject({
        agentVersion: OLD_AGENT_VERSION,
      });
      // Old but speaking a supported protocol: it serves like any agent.
      const ping = await request<{ data: { pong: boolean } }>(edge.url, `/api/hosts/${host.id}/ping`, {
        token: session.token,
      });
      expect(ping.body.data.pong).toBe(true);

      await old.stop();
      const current = startAgent(host.token);
      await current.connected();
      expect(await listedHost(host.id)).toMatchObject({
        online: true,
        agentVersion: AGENT_RELEASE,
        outdated: false,
        latestAgentVersion: AGENT_RELEASE,
      });
      expect(await feed.waitFor(online(false), "host.online, current")).toMatchObject({ agentVersion: AGENT_RELEASE });
      await current.stop();
    } finally {
      feed.close();
    }
  });

  it("is not called outdated before any agent reported a version", async () => {
    const host = await enrollHost(session);
    expect(await listedHost(host.id)).toMatchObject({
      agentVersion: null,
      outdated: false,
      latestAgentVersion: AGENT_RELEASE,
    });
  });
});

describe("a protocol the edge no longer speaks", () => {
  it("is closed with VERSION_UNSUPPORTED and a reason that says how to upgrade; the host stays offline", async () => {
    const host = await enrollHost(session);
    const stray = await dialAgent(edge.url, host.token);
    stray.socket.send(helloFrame(stray.hostId, MIN_PROTOCOL_VERSION - 1));
    const closed = await stray.closed;
    expect(closed).toEqual({
      code: CLOSE_CODES.VERSION_UNSUPPORTED,
      reason: `protocol ${MIN_PROTOCOL_VERSION - 1} unsupported (edge speaks ${MIN_PROTOCOL_VERSION}-${PROTOCOL_VERSION}): run kai-agent upgrade`,
    });
    expect(Buffer.byteLength(closed.reason)).toBeLessThanOrEqual(123);
    expect(stray.frames).toEqual([]);
    expect(await listedHost(host.id)).toMatchObject({ online: false, agentVersion: null });
  });

  it("is not refused when newer than the edge's: the welcome names the edge's protocol, which the agent then speaks", async () => {
    const host = await enrollHost(session);
    const newer = await dialAgent(edge.url, host.token);
    newer.socket.send(helloFrame(newer.hostId, PROTOCOL_VERSION + 1));
    await expect
      .poll(() => newer.frames.find((frame) => frame.type === "welcome"))
      .toMatchObject({ type: "welcome", protocolVersion: PROTOCOL_VERSION });
    newer.socket.close();
    await newer.closed;
  });
});
