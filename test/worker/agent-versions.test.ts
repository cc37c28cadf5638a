import { describe, expect, it } from "vitest";
import { unsupportedProtocol } from "../../edge/host-relay/agent-connections";
import { CLOSE_CODES, MIN_PROTOCOL_VERSION, PROTOCOL_VERSION } from "../../shared/protocol";
import type { Host } from "../../shared/schemas/hosts";
import { AGENT_RELEASE } from "../../shared/version";
import { dial, type EnrolledHost, enrolledHost, hello, record } from "./agent-socket";
import { call } from "./helpers";

/**
 * An agent's versions at hello, on the host's real Durable Object: a protocol below the oldest
 * the edge speaks is closed with VERSION_UNSUPPORTED and the fix; an older agent version with a
 * supported protocol is welcomed and marked outdated, in REST and in the user feed.
 */

async function listed(enrolled: EnrolledHost): Promise<Host | undefined> {
  const res = await call("/api/hosts", { token: enrolled.user.accessToken });
  const { data } = (await res.json()) as { data: { hosts: Host[] } };
  return data.hosts.find((host) => host.id === enrolled.host.id);
}

async function feedOf(enrolled: EnrolledHost) {
  const headers = { Upgrade: "websocket" };
  const feed = record(await call("/api/v1/ws/events", { token: enrolled.user.accessToken, headers }));
  await feed.next((frame) => frame.type === "live");
  return feed;
}

describe("hello: the agent's protocol", () => {
  it("below the oldest the edge speaks is closed with VERSION_UNSUPPORTED, saying what to run; nothing is recorded", async () => {
    const enrolled = await enrolledHost();
    const agent = await dial(enrolled.token);
    agent.socket.send(hello(enrolled.host.id, { protocolVersion: MIN_PROTOCOL_VERSION - 1 }));
    expect(await agent.closed).toEqual({
      code: CLOSE_CODES.VERSION_UNSUPPORTED,
      reason: unsupportedProtocol(MIN_PROTOCOL_VERSION - 1),
    });
    expect(agent.frames).toEqual([]);
    expect(await listed(enrolled)).toMatchObject({ online: false, agentVersion: null, outdated: false });
  });

  it("writes a close reason within WebSocket's 123 bytes, naming the protocols spoken and kai-agent upgrade", () => {
    const reason = unsupportedProtocol(0);
    expect(reason).toBe(
      `protocol 0 unsupported (edge speaks ${MIN_PROTOCOL_VERSION}-${PROTOCOL_VERSION}): run kai-agent upgrade`,
    );
    // The widest a hello's protocolVersion can make it: the largest integer JSON carries exactly.
    expect(new TextEncoder().encode(unsupportedProtocol(Number.MAX_SAFE_INTEGER)).length).toBeLessThanOrEqual(123);
  });

  it("at the oldest the edge speaks is welcomed", async () => {
    const enrolled = await enrolledHost();
    const agent = await dial(enrolled.token);
    agent.socket.send(hello(enrolled.host.id, { protocolVersion: MIN_PROTOCOL_VERSION }));
    await agent.next((frame) => frame.type === "welcome");
    agent.socket.close(1000, "done");
  });
});

describe("hello: the agent's version", () => {
  it("older than the served release is welcomed and marked outdated, in REST and the feed", async () => {
    const enrolled = await enrolledHost();
    const feed = await feedOf(enrolled);
    const agent = await dial(enrolled.token);
    agent.socket.send(hello(enrolled.host.id, { agentVersion: "0.0.1" }));
    await agent.next((frame) => frame.type === "welcome");
    expect(await listed(enrolled)).toMatchObject({
      online: true,
      agentVersion: "0.0.1",
      outdated: true,
      latestAgentVersion: AGENT_RELEASE,
    });
    expect(await feed.next((frame) => frame.type === "host.online")).toMatchObject({
      agentVersion: "0.0.1",
      outdated: true,
    });
    agent.socket.close(1000, "done");
  });

  it("equal to the served release, or unparsable, is not outdated", async () => {
    for (const agentVersion of [AGENT_RELEASE, "dev"]) {
      const enrolled = await enrolledHost();
      const feed = await feedOf(enrolled);
      const agent = await dial(enrolled.token);
      agent.socket.send(hello(enrolled.host.id, { agentVersion }));
      await agent.next((frame) => frame.type === "welcome");
      expect(await listed(enrolled)).toMatchObject({ agentVersion, outdated: false });
      expect(await feed.next((frame) => frame.type === "host.online")).toMatchObject({ agentVersion, outdated: false });
      agent.socket.close(1000, "done");
    }
  });
});
