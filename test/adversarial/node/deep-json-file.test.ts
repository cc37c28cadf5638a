import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { handlers } from "../../../agent/handlers/index";
import { createLogger } from "../../../agent/log";
import { AgentRpc } from "../../../agent/rpc";
import { MAX_JSON_DEPTH } from "../../../shared/json-depth";
import type { ReplyFrame } from "../../../shared/protocol";
import { type WorkspaceWorld, workspaceWorld } from "../../support/workspace-handlers";

/**
 * A workspace file is written by whoever can write the workspace (a coding agent, a
 * container): a `.claude/settings.json` nested thousands deep parsed fine but overflowed
 * the stack when the agent serialised its answer, which the client saw as a 500.
 */

let world: WorkspaceWorld;

beforeAll(async () => {
  world = await workspaceWorld("deep-json");
});
afterAll(async () => {
  await world?.cleanup();
});

/** One request through the real RPC layer, as the edge would send it; the single reply. */
async function roundTrip(op: string, params: unknown): Promise<ReplyFrame> {
  const replies: ReplyFrame[] = [];
  const { requestId: _, signal: __, emit: ___, ...context } = world.ctx();
  const rpc = new AgentRpc({
    handlers,
    context,
    send: (text) => {
      const frame = JSON.parse(text) as { type: string };
      if (frame.type === "res") replies.push(frame as ReplyFrame);
    },
    log: createLogger(() => undefined),
  });
  await rpc.handle({ type: "req", id: crypto.randomUUID(), op, params });
  expect(replies).toHaveLength(1);
  return replies[0] as ReplyFrame;
}

const nested = (depth: number) => `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;

describe("JSON files of a workspace nested too deep", () => {
  it.each(["settings", "hooks"] as const)(
    "answers %s with VALIDATION_ERROR naming the file, not a crash",
    async (section) => {
      const root = path.join(world.root, `deep-${section}`);
      await fs.mkdir(path.join(root, ".claude"), { recursive: true });
      await fs.writeFile(path.join(root, ".claude/settings.json"), `{"hooks":${nested(20_000)}}`);
      const reply = await roundTrip("settings.read", { root, section });
      expect(reply.ok).toBe(false);
      expect(reply.ok ? undefined : reply.error).toMatchObject({
        code: "VALIDATION_ERROR",
        details: { file: ".claude/settings.json" },
      });
    },
  );

  it("still reads a file exactly at the limit", async () => {
    const root = path.join(world.root, "at-limit");
    await fs.mkdir(path.join(root, ".claude"), { recursive: true });
    await fs.writeFile(path.join(root, ".claude/settings.json"), nested(MAX_JSON_DEPTH));
    const reply = await roundTrip("settings.read", { root, section: "settings" });
    expect(reply).toMatchObject({ ok: true, result: { section: "settings", exists: true } });
  });
});
