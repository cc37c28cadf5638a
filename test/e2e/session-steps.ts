import { mkdir } from "node:fs/promises";
import path from "node:path";
import { expect } from "vitest";
import { SessionViewer } from "../support/session-viewer";
import type { World } from "./world";

export const SESSIONS_PATH = "/api/v1/agent-sessions";

/** Statuses after which a session holds none of its host's slots. */
const FINISHED = ["ended", "failed", "disconnected"];

/**
 * The steps every agent-session test takes through the API of one world: make a workspace, start
 * a session, send a message, watch, and end whatever a test left running (a host runs at most 4
 * sessions at once, so each test must give its slots back).
 */
export function sessionSteps(world: World) {
  return {
    /** A catalog workspace over a new folder in the agent's root, on `hostId` (the world's host by default). */
    async workspace(name: string, hostId?: string): Promise<string> {
      const dir = path.join(world.root, name);
      await mkdir(dir);
      const item = await world.api("/api/catalog/flexy", {
        body: { name, hostPath: dir },
        ...(hostId ? { headers: { "X-Kai-Host": hostId } } : {}),
      });
      expect(item.status, JSON.stringify(item.body)).toBe(201);
      return item.body.data.id as string;
    },

    async start(workspaceId: string, body: Record<string, unknown> = {}) {
      const created = await world.api(SESSIONS_PATH, { body: { workspace_id: workspaceId, ...body } });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      return created.body as { id: string; status: string; profile: string; host_id: string };
    },

    /** Sends a message; resolves with its run id. */
    async send(sessionId: string, message: string): Promise<string> {
      const sent = await world.api(`${SESSIONS_PATH}/${sessionId}/messages`, { body: { message } });
      expect(sent.status, JSON.stringify(sent.body)).toBe(202);
      return sent.body.run_id as string;
    },

    view: (sessionId: string, since?: number) =>
      SessionViewer.open(world.edge.url, world.session.token, sessionId, since),

    /** Ends every session of the world's user that still holds a slot. */
    async endLive(): Promise<void> {
      const listed = await world.api(`${SESSIONS_PATH}?limit=100`);
      const live = (listed.body.sessions as { id: string; status: string }[]).filter(
        (session) => !FINISHED.includes(session.status),
      );
      await Promise.all(live.map((session) => world.api(`${SESSIONS_PATH}/${session.id}`, { method: "DELETE" })));
    },
  };
}
