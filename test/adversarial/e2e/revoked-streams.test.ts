import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { CLOSE_CODES } from "../../../shared/protocol";
import type { StreamFrame } from "../../../shared/stream-frames";
import { type Edge, startEdge } from "../../support/edge-server";
import { enrollHost, request, type Session, signUp, streamFrameOf } from "../../support/kai-client";
import { dialAgent, helloFrame, type RawAgent } from "../../support/raw-agent";
import { until } from "../../support/until";

/**
 * A stream (a viewer's WebSocket, here a log follow) outlives the request that checked its
 * credential. Revoking that credential — deleting the API token, signing the session out,
 * or the refresh-token reuse that revokes a session's family — must close the streams it
 * opened, and only those. The agent is a raw socket that streams a log line every 100 ms
 * for as long as it is not told to cancel, so a stream left open keeps delivering.
 */

let edge: Edge;
let session: Session;
let host: { id: string; token: string; name: string };
let agent: RawAgent;
/** Request ids the edge told the agent to cancel. */
const cancelled = new Set<string>();

beforeAll(async () => {
  edge = await startEdge();
  session = await signUp(edge.url);
  host = await enrollHost(session);
  agent = await dialAgent(edge.url, host.token);
  const timers = new Map<string, ReturnType<typeof setInterval>>();
  agent.socket.on("message", (data) => {
    const frame = JSON.parse(data.toString()) as { type: string; id: string };
    if (frame.type === "cancel") {
      cancelled.add(frame.id);
      clearInterval(timers.get(frame.id));
      return;
    }
    if (frame.type !== "req") return;
    let seq = 0;
    const send = () => {
      if (agent.socket.readyState !== WebSocket.OPEN) return;
      agent.socket.send(
        JSON.stringify({
          type: "chunk",
          id: frame.id,
          seq,
          data: { timestamp: new Date().toISOString(), message: `line-${seq}`, level: "info", stream: "stdout" },
        }),
      );
      seq += 1;
    };
    timers.set(frame.id, setInterval(send, 100));
  });
  agent.socket.send(helloFrame(agent.hostId));
  await until(() => agent.frames.some((frame) => frame.type === "welcome"), 10_000, "welcome");
});
afterAll(async () => {
  agent?.socket.close();
  await edge?.stop();
});

interface Viewer {
  socket: WebSocket;
  frames: StreamFrame<"service.logs.follow">[];
  closed: Promise<{ code: number; reason: string }>;
  /** The close, or "still open" when none came within `ms`. */
  closedWithin(ms: number): Promise<{ code: number; reason: string } | "still open">;
}

/** Opens a log follow on the raw agent's host as `Authorization: Bearer <token>`, once its first line arrived. */
async function follow(token: string): Promise<Viewer> {
  const socket = new WebSocket(`${edge.url.replace("http", "ws")}/api/services/revoked-streams/logs/follow`, {
    headers: { authorization: `Bearer ${token}`, "x-kai-host": host.id },
  });
  const frames: Viewer["frames"] = [];
  socket.on("message", (data) => frames.push(streamFrameOf("service.logs.follow", data)));
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.once("close", (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  await new Promise((resolve, reject) => {
    socket.once("open", resolve);
    socket.once("error", reject);
  });
  await until(() => frames.length > 0, 10_000, "the first streamed line");
  return {
    socket,
    frames,
    closed,
    closedWithin: (ms) =>
      Promise.race([closed, new Promise<"still open">((resolve) => setTimeout(() => resolve("still open"), ms))]),
  };
}

/** Signs in with the password `signUp` registered, for an access token and a refresh token of a new session. */
async function signIn(): Promise<{ access_token: string; refresh_token: string }> {
  const res = await request(edge.url, "/api/v1/auth/sessions", {
    body: { email: session.email, password: "e2e-password" },
  });
  expect(res.status).toBe(200);
  return res.body;
}

/**
 * The viewer was told why (an UNAUTHORIZED error frame), the edge closed it with
 * CREDENTIAL_REVOKED, and nothing more is delivered. `ws` leaves OPEN as soon as the edge's
 * close frame arrives, but reports the close only when the TCP connection ends, which the
 * local dev server takes seconds to do after any viewer's close; terminating once the close
 * frame came reports its code at once.
 */
async function expectRevoked(viewer: Viewer) {
  await until(() => viewer.socket.readyState !== WebSocket.OPEN, 10_000, "the edge closing the stream").catch(
    () => undefined,
  );
  expect(viewer.frames.at(-1)).toMatchObject({ type: "error", error: { code: "UNAUTHORIZED" } });
  expect(viewer.socket.readyState).not.toBe(WebSocket.OPEN);
  const delivered = viewer.frames.length;
  await new Promise((resolve) => setTimeout(resolve, 500));
  expect(viewer.frames.length).toBe(delivered);
  viewer.socket.terminate();
  expect(await viewer.closedWithin(5_000)).toMatchObject({ code: CLOSE_CODES.CREDENTIAL_REVOKED });
}

describe("streams end with the credential that opened them", () => {
  it("closes the streams an API token opened when it is revoked, and stops them on the agent; other credentials' streams go on", async () => {
    const created = await request(edge.url, "/api/tokens", { token: session.token, body: { name: "revoked-streams" } });
    expect(created.status).toBe(201);
    const { id, token } = created.body.data as { id: string; token: string };
    const first = await follow(token);
    const second = await follow(token);
    const bystander = await follow(session.token);

    const revoked = await request(edge.url, `/api/tokens/${id}`, { method: "DELETE", token: session.token });
    expect(revoked.status).toBe(200);

    await Promise.all([expectRevoked(first), expectRevoked(second)]);
    // The agent was told to stop both streams, not just left streaming for nobody.
    await until(() => cancelled.size >= 2, 5_000, "two cancels reaching the agent");
    // The stream opened with another token is untouched and still delivering.
    const before = bystander.frames.length;
    await until(() => bystander.frames.length > before + 2, 5_000, "more lines on the other token's stream");
    expect(bystander.socket.readyState).toBe(WebSocket.OPEN);
    bystander.socket.terminate();
  });

  it("closes the streams a login session opened when it signs out", async () => {
    const signedIn = await signIn();
    const viewer = await follow(signedIn.access_token);
    const other = await signIn();
    const bystander = await follow(other.access_token);

    const out = await request(edge.url, "/api/v1/auth/sessions", {
      method: "DELETE",
      body: { refresh_token: signedIn.refresh_token },
    });
    expect(out.status).toBe(204);

    await expectRevoked(viewer);
    const before = bystander.frames.length;
    await until(() => bystander.frames.length > before + 2, 5_000, "more lines on the other session's stream");
    bystander.socket.terminate();
  });

  it("closes the streams of a session whose refresh token was reused (its family is revoked)", async () => {
    const signedIn = await signIn();
    const rotated = await request(edge.url, "/api/v1/auth/sessions/refresh", {
      body: { refresh_token: signedIn.refresh_token },
    });
    expect(rotated.status).toBe(200);
    const viewer = await follow(rotated.body.access_token);

    const reused = await request(edge.url, "/api/v1/auth/sessions/refresh", {
      body: { refresh_token: signedIn.refresh_token },
    });
    expect(reused.status).toBe(401);

    await expectRevoked(viewer);
  });
});
