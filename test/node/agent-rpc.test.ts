import { mkdtemp, realpath, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { handlers } from "../../agent/handlers/index";
import type { Handlers } from "../../agent/handlers/types";
import { createLogger } from "../../agent/log";
import { AgentRpc, MAX_CONCURRENT_REQUESTS } from "../../agent/rpc";
import { AgentSessions } from "../../agent/runtime/acp/agent-sessions";
import { createDockerClient } from "../../agent/runtime/docker/client";
import { LiveStats } from "../../agent/runtime/docker/live-stats";
import { KaiError } from "../../shared/errors";
import { agentFrame, parseFrame, type ReplyFrame } from "../../shared/protocol";
import { busyboxImage } from "../support/busybox-image";
import { type DockerProxy, startDockerProxy } from "../support/docker-proxy";

let proxy: DockerProxy;
let root: string;
let image: string;
const lines: string[] = [];
const log = createLogger((line) => lines.push(line));

beforeAll(async () => {
  image = await busyboxImage(createDockerClient());
  proxy = await startDockerProxy();
  root = await realpath(await mkdtemp(path.join(os.tmpdir(), "kai-rpc-")));
});
afterAll(async () => {
  await proxy?.close();
  await rm(root, { recursive: true, force: true });
});

/** A real RPC layer whose replies (parsed as the edge parses them) land in `replies`. */
function rpcWith(handlerMap: Handlers = handlers) {
  const replies: ReplyFrame[] = [];
  const docker = createDockerClient({ socketPath: proxy.socketPath });
  const rpc = new AgentRpc({
    handlers: handlerMap,
    context: {
      hostId: "host-rpc-test",
      policy: { allowedRoots: [root], maxDirectoryEntries: 100 },
      docker,
      liveStats: new LiveStats(docker),
      agentSessions: new AgentSessions({ profiles: [] }),
    },
    send: (text) => {
      const frame = parseFrame(agentFrame, text);
      if (!frame) throw new Error(`the agent sent an invalid frame: ${text.slice(0, 200)}`);
      if (frame.type === "res") replies.push(frame);
    },
    log,
  });
  return { rpc, replies };
}

/** Sends one request frame through the real RPC layer and returns the single reply. */
async function roundTrip(op: string, params: unknown, handlerMap: Handlers = handlers): Promise<ReplyFrame> {
  const { rpc, replies } = rpcWith(handlerMap);
  await rpc.handle({ type: "req", id: crypto.randomUUID(), op, params });
  expect(replies).toHaveLength(1);
  return replies[0] as ReplyFrame;
}

const errorOf = (reply: ReplyFrame) => (reply.ok ? undefined : reply.error);

describe("agent RPC: whatever the edge sends", () => {
  it.each([
    ["privileged mode", { privileged: true }],
    ["the host's network namespace", { networkMode: "host" }],
    ["the host's PID namespace", { pidMode: "host" }],
    ["an added capability", { capAdd: ["SYS_ADMIN"] }],
    ["a device", { devices: ["/dev/sda"] }],
    ["an unconfined seccomp profile", { securityOpt: ["seccomp=unconfined"] }],
    ["an unconfined AppArmor profile", { securityOpt: ["apparmor=unconfined"] }],
    ["an extra bind mount", { extraBinds: ["/:/host"] }],
  ])("refuses %s with PERMISSION_DENIED before any Docker call", async (_label, security) => {
    proxy.reset();
    const reply = await roundTrip("container.create", {
      name: "kai-rpc-refused",
      image,
      hostPath: root,
      containerPath: "/workspace",
      env: {},
      security,
    });
    expect(errorOf(reply)?.code).toBe("PERMISSION_DENIED");
    expect(proxy.requests).toEqual([]);
    expect(proxy.connections).toBe(0);
  });

  it("answers an unknown operation with VALIDATION_ERROR", async () => {
    const reply = await roundTrip("container.exec", { id: "x", cmd: ["sh"] });
    expect(errorOf(reply)).toMatchObject({
      code: "VALIDATION_ERROR",
      message: expect.stringContaining("unknown operation"),
    });
  });

  it("answers invalid params with VALIDATION_ERROR and touches nothing", async () => {
    proxy.reset();
    for (const params of [{ id: "--all" }, { id: "" }, {}, null, { id: "ok", extra: true }]) {
      expect(errorOf(await roundTrip("container.start", params))?.code).toBe("VALIDATION_ERROR");
    }
    expect(proxy.requests).toEqual([]);
  });

  it("reports an unexpected failure as INTERNAL_ERROR without its stack, and logs it locally", async () => {
    const broken: Handlers = {
      ...handlers,
      ping: async () => {
        throw new TypeError("boom at secret/path.ts:12");
      },
    };
    const reply = await roundTrip("ping", {}, broken);
    expect(errorOf(reply)).toEqual({
      code: "INTERNAL_ERROR",
      message: "the host agent failed unexpectedly; see its log",
    });
    expect(lines.some((line) => line.includes("boom"))).toBe(true);
  });

  it("keeps a handler's KaiError code and details", async () => {
    const refusing: Handlers = {
      ...handlers,
      ping: async () => {
        throw new KaiError("CONFLICT", "busy", { details: { why: "test" } });
      },
    };
    expect(errorOf(await roundTrip("ping", {}, refusing))).toEqual({
      code: "CONFLICT",
      message: "busy",
      details: { why: "test" },
    });
  });

  it("refuses to send an answer larger than one frame", async () => {
    const huge: Handlers = {
      ...handlers,
      "directory.list": async () => ({
        path: "/",
        directories: [],
        files: [{ name: "x".repeat(2_000_000), path: "/x", size: 1, modified: "" }],
        truncated: false,
      }),
    };
    expect(errorOf(await roundTrip("directory.list", {}, huge))?.code).toBe("PAYLOAD_TOO_LARGE");
  });

  it("logs every request with its id, op, outcome and duration", async () => {
    const reply = await roundTrip("ping", {});
    expect(reply.ok).toBe(true);
    expect(lines.some((line) => line.includes(`request=${reply.id} op=ping outcome=ok ms=`))).toBe(true);
  });
});

describe("agent RPC: requests in flight", () => {
  it(`runs at most ${MAX_CONCURRENT_REQUESTS} at once and answers one more RATE_LIMITED at once`, async () => {
    const { rpc, replies } = rpcWith();
    const watches = Array.from({ length: MAX_CONCURRENT_REQUESTS }, () => crypto.randomUUID());
    // Real watchers of a real directory: each runs until the edge cancels it.
    const running = watches.map((id) =>
      rpc.handle({ type: "req", id, op: "workspace.watch", params: { root, statsIntervalMs: 60_000 } }),
    );
    expect(rpc.inflight).toBe(MAX_CONCURRENT_REQUESTS);

    // Answered while all the others still run: the refusal waits for none of them.
    const refusedId = crypto.randomUUID();
    await rpc.handle({ type: "req", id: refusedId, op: "ping", params: {} });
    expect(replies).toEqual([
      {
        type: "res",
        id: refusedId,
        ok: false,
        error: { code: "RATE_LIMITED", message: expect.stringContaining(`${MAX_CONCURRENT_REQUESTS} requests`) },
      },
    ]);
    expect(rpc.inflight).toBe(MAX_CONCURRENT_REQUESTS);

    // One finished (cancelled) makes room again; a cancelled request is never answered.
    rpc.cancel(watches[0] ?? "");
    await running[0];
    const pingId = crypto.randomUUID();
    await rpc.handle({ type: "req", id: pingId, op: "ping", params: {} });
    expect(replies.at(-1)).toMatchObject({ id: pingId, ok: true });

    for (const id of watches) rpc.cancel(id);
    await Promise.all(running);
    expect(rpc.inflight).toBe(0);
    expect(replies.map((reply) => reply.id)).toEqual([refusedId, pingId]);
  });

  it("stops a cancelled handler with CANCELLED, and sends nothing for it", async () => {
    let reason: unknown;
    const waiting: Handlers = {
      ...handlers,
      ping: (_params, ctx) =>
        new Promise((_resolve, reject) =>
          ctx.signal.addEventListener("abort", () => {
            reason = ctx.signal.reason;
            reject(ctx.signal.reason);
          }),
        ),
    };
    const { rpc, replies } = rpcWith(waiting);
    const id = crypto.randomUUID();
    const handled = rpc.handle({ type: "req", id, op: "ping", params: {} });
    rpc.cancel(id);
    await handled;
    expect(reason).toBeInstanceOf(KaiError);
    expect((reason as KaiError).code).toBe("CANCELLED");
    expect(replies).toEqual([]);
    expect(lines.some((line) => line.includes(`request=${id} op=ping outcome=CANCELLED`))).toBe(true);
  });
});
