import { env, SELF } from "cloudflare:test";
import { expect } from "vitest";
import { PROTOCOL_VERSION } from "../../shared/protocol";
import { BASE, call, registerUser, unique } from "./helpers";

/**
 * Raw sockets to a host's Durable Object on the real workerd, for tests that play the agent
 * (and a viewer) frame by frame: the agent dials the real /api/agent/connect route.
 */

/**
 * Frames sent back to back may be handled out of order here. The Workers pool wraps each of a
 * Durable Object's socket handlers in one that first awaits the pool's module import (a call to
 * its runner object), so under load the later frame's handler can start first. workerd itself
 * (wrangler dev, production) calls the handler directly, in order. So a test whose outcome
 * depends on the order waits for one frame's effect before it sends the next.
 */
export interface RawSocket {
  socket: WebSocket;
  /** Every text frame received, parsed. */
  frames: unknown[];
  /** The same frames as they came. */
  texts: string[];
  closed: Promise<{ code: number; reason: string }>;
  /** The first frame received (so far or later) that matches. */
  next<T = Record<string, unknown>>(match: (frame: Record<string, unknown>) => boolean): Promise<T>;
}

/** Accepts the client end of an upgrade's answer and records what arrives on it. */
export function record(response: Response): RawSocket {
  const socket = response.webSocket;
  if (!socket) throw new Error(`no WebSocket in the ${response.status} answer`);
  socket.accept();
  const frames: unknown[] = [];
  const texts: string[] = [];
  socket.addEventListener("message", (event) => {
    texts.push(String(event.data));
    frames.push(JSON.parse(String(event.data)));
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.addEventListener("close", (event) => resolve({ code: event.code, reason: event.reason })),
  );
  const next = async <T>(match: (frame: Record<string, unknown>) => boolean): Promise<T> => {
    let found: unknown;
    // Polled well past expect.poll's default second: on a loaded machine a frame through workerd can take longer.
    await expect
      .poll(() => (found = frames.find((frame) => match(frame as Record<string, unknown>))), { timeout: 10_000 })
      .toBeDefined();
    return found as T;
  };
  return { socket, frames, texts, closed, next };
}

/** Opens an agent's socket with its token, as kai-agent does (no hello yet). */
export async function dial(token: string): Promise<RawSocket> {
  const response = await SELF.fetch(`${BASE}/api/agent/connect`, {
    headers: { Upgrade: "websocket", Authorization: `Bearer ${token}` },
  });
  expect(response.status).toBe(101);
  return record(response);
}

/** An agent's hello; `versions` plays an older (or newer) agent. */
export const hello = (
  hostId: string,
  versions: { protocolVersion?: number; agentVersion?: string; capabilities?: string[] } = {},
) =>
  JSON.stringify({
    type: "hello",
    protocolVersion: versions.protocolVersion ?? PROTOCOL_VERSION,
    agentVersion: versions.agentVersion ?? "test",
    hostId,
    capabilities: versions.capabilities ?? [],
    docker: { ok: true, version: "test" },
    os: "test",
    arch: "test",
    hostname: "test",
  });

export interface EnrolledHost {
  user: { id: string; accessToken: string };
  host: { id: string; name: string };
  token: string;
}

/** A new user with one enrolled host (no agent connected). */
export async function enrolledHost(): Promise<EnrolledHost> {
  const user = await registerUser();
  const enrolled = await call("/api/hosts", { body: { name: unique("h") }, token: user.accessToken });
  const { host, token } = ((await enrolled.json()) as { data: { host: { id: string; name: string }; token: string } })
    .data;
  return { user, host, token };
}

/** Dials and says hello (listing `capabilities`), then waits for the welcome. */
export async function connectAgent(enrolled: EnrolledHost, capabilities: string[] = []): Promise<RawSocket> {
  const agent = await dial(enrolled.token);
  agent.socket.send(hello(enrolled.host.id, { capabilities }));
  await agent.next((frame) => frame.type === "welcome");
  return agent;
}

/**
 * Makes D1 fail every update of this host's row (a trigger), until the returned function
 * drops it. Only this host's row: other test files may share the database.
 */
export async function failHostUpdates(hostId: string): Promise<() => Promise<void>> {
  const trigger = `fail_host_${hostId.replaceAll("-", "_")}`;
  await env.DB.exec(
    `CREATE TRIGGER ${trigger} BEFORE UPDATE ON hosts WHEN NEW.id = '${hostId}' BEGIN SELECT RAISE(ABORT, 'injected D1 failure'); END;`,
  );
  return async () => {
    await env.DB.exec(`DROP TRIGGER ${trigger}`);
  };
}

/** The host's Durable Object, to drive it directly (a viewer's upgrade, a collected call). */
export function hostRelay(hostId: string) {
  return env.HOST_RELAY.get(env.HOST_RELAY.idFromName(hostId));
}
