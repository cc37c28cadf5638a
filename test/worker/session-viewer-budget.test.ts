import { describe, expect, it } from "vitest";
import { VIEWER_FRAME_RATE } from "../../edge/host-relay/frame-budget";
import { AGENT_SESSION_HEADER, AGENT_SESSION_SINCE_HEADER } from "../../edge/host-relay/headers";
import { hostRelay, record } from "./agent-socket";
import { BASE } from "./helpers";

/**
 * What a viewer sends on an agent session's socket is budgeted per socket, in the host's real
 * Durable Object: the burst is handled as usual (here: refused AGENT_OFFLINE, no agent is
 * connected), what exceeds it is dropped with RATE_LIMITED, and a viewer that keeps flooding is
 * closed with 1008. The budget's arithmetic over time is frame-budget.test.ts.
 */
describe("a session viewer's frame budget", () => {
  it("handles the burst, refuses what exceeds it, and closes a socket that keeps flooding", async () => {
    const response = await hostRelay(`budget-${crypto.randomUUID()}`).fetch(
      new Request(`${BASE}/viewer`, {
        headers: {
          Upgrade: "websocket",
          [AGENT_SESSION_HEADER]: crypto.randomUUID(),
          [AGENT_SESSION_SINCE_HEADER]: "0",
        },
      }),
    );
    const viewer = record(response);
    const cancel = JSON.stringify({ type: "cancel" });
    const { burst, closeAfter } = VIEWER_FRAME_RATE;
    for (let frame = 0; frame < burst; frame++) viewer.socket.send(cancel);
    await expect.poll(() => viewer.frames.length).toBe(burst);
    expect(new Set(viewer.frames.map((frame) => (frame as { code: string }).code))).toEqual(new Set(["AGENT_OFFLINE"]));

    // Far more than the bucket refills while they arrive: refused, then the socket is closed.
    for (let frame = 0; frame < closeAfter * 4; frame++) viewer.socket.send(cancel);
    expect(await viewer.closed).toMatchObject({ code: 1008 });
    const refusals = viewer.frames.slice(burst) as { type: string; code: string; seq?: number }[];
    expect(refusals.length).toBeGreaterThanOrEqual(closeAfter);
    expect(refusals.filter((frame) => frame.code === "RATE_LIMITED").length).toBeGreaterThanOrEqual(closeAfter);
    expect(refusals.at(-1)).toMatchObject({
      type: "error",
      code: "RATE_LIMITED",
      error: expect.stringContaining("too many"),
    });
    expect(refusals.every((frame) => frame.seq === undefined)).toBe(true);
  });
});
