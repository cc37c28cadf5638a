import { execFile } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { OPS, type Op, type StreamOp } from "../../shared/commands";
import { fixturePolicy } from "../support/acp-fixture-profile";
import { streamFrameOf, uniqueName } from "../support/kai-client";
import { until } from "../support/until";
import { createWorld, type World } from "./world";

let world: World;
const git = (cwd: string, ...args: string[]) => promisify(execFile)("git", args, { cwd });
/** Commits made by the test itself (not through Kai) need an identity of their own. */
const gitAs = (cwd: string, ...args: string[]) =>
  git(cwd, "-c", "user.name=Kai Contract", "-c", "user.email=contract@example.com", ...args);
/** A container that keeps writing to its log, for the log commands. */
let chattyId = "";
beforeAll(async () => {
  world = await createWorld({ policy: fixturePolicy() });
  const chatty = await world.docker.createContainer({
    name: uniqueName("kai-e2e-chatty-"),
    Image: world.image,
    Cmd: ["/bin/sh", "-c", "while true; do echo tick; sleep 0.2; done"],
  });
  await chatty.start();
  chattyId = chatty.id;
});
afterAll(async () => {
  if (chattyId) await world.docker.getContainer(chattyId).remove({ force: true });
  await world?.dispose();
});

/** Creates on first use and hands every later caller the same promise, whatever the order. */
function memo<T>(make: () => Promise<T>): () => Promise<T> {
  let made: Promise<T> | undefined;
  return () => (made ??= make());
}

interface Workspace {
  id: string;
  dir: string;
}

/**
 * A registered workspace: a git repository (one commit, pushed to a bare remote that is its
 * upstream) with a `hello` script. Made on disk directly; only the catalog registration goes
 * through Kai (a `path.check` row older than any command that uses it).
 */
async function makeWorkspace(name: string): Promise<Workspace> {
  const dir = path.join(world.root, name);
  const remote = path.join(world.root, `${name}-remote.git`);
  await mkdir(dir);
  await git(world.root, "init", "--bare", "-b", "main", remote);
  await git(dir, "init", "-b", "main");
  await git(dir, "remote", "add", "origin", remote);
  await writeFile(path.join(dir, "package.json"), JSON.stringify({ scripts: { hello: "echo contract" } }));
  await git(dir, "add", "package.json");
  await gitAs(dir, "commit", "-m", "initial");
  await git(dir, "push", "--set-upstream", "origin", "main");
  const registered = await world.api("/api/catalog/flexy", { body: { name, hostPath: dir } });
  if (!registered.body?.data?.id)
    throw new Error(`workspace ${name} not registered: ${JSON.stringify(registered.body)}`);
  return { id: registered.body.data.id, dir };
}

/** The workspace shared by the commands that leave it usable for every other one. */
const workspace = memo(() => makeWorkspace("contract"));

/** `git.checkout` switches branch, so it has a workspace of its own. */
const checkoutWorkspace = memo(() => makeWorkspace("contract-checkout"));

const ws = (id: string, suffix: string) => `/api/v1/workspaces/${id}${suffix}`;

/** Writes a file into the shared workspace on disk and answers its API path. */
async function fileOnDisk(name: string): Promise<string> {
  const { id, dir } = await workspace();
  await writeFile(path.join(dir, name), "contract");
  return ws(id, `/files/${name}`);
}

/**
 * A Kai-managed container of its own (created through `POST /api/flexy`, a `container.create`
 * row older than the command under test), started directly on the engine when `running`.
 */
async function newContainer(running: boolean): Promise<string> {
  const name = uniqueName("kai-e2e-contract-");
  const hostPath = path.join(world.root, name);
  await mkdir(hostPath, { recursive: true });
  const res = await world.api("/api/flexy", { body: { name, image: world.image, hostPath } });
  const id = res.body?.data?.id as string | undefined;
  if (!id) throw new Error(`container not created: ${res.status} ${JSON.stringify(res.body)}`);
  if (running) await world.docker.getContainer(id).start();
  return id;
}

/** A new agent session of the scripted ACP agent in the shared workspace (an `agentSession.start` row). */
async function agentSession(): Promise<string> {
  // A host runs at most 4 sessions at once: end the ones earlier entries left running.
  const listed = await world.api("/api/v1/agent-sessions?limit=100");
  for (const session of listed.body.sessions as { id: string; status: string }[]) {
    if (session.status !== "ended" && session.status !== "failed") {
      await world.api(`/api/v1/agent-sessions/${session.id}`, { method: "DELETE" });
    }
  }
  const created = await world.api("/api/v1/agent-sessions", { body: { workspace_id: (await workspace()).id } });
  if (created.status !== 201) throw new Error(`agent session not started: ${JSON.stringify(created.body)}`);
  return created.body.id;
}

/** A session whose agent waits for a person's approval; answers its id and the approval's. */
async function awaitingApproval(): Promise<{ session: string; approval: string }> {
  const session = await agentSession();
  await world.api(`/api/v1/agent-sessions/${session}/messages`, { body: { message: "scenario:permission" } });
  let approval = "";
  await until(
    async () => {
      const details = await world.api(`/api/v1/agent-sessions/${session}`);
      approval = details.body.pending_approvals?.[0]?.id ?? "";
      return approval !== "";
    },
    20_000,
    "the fixture's approval",
  );
  return { session, approval };
}

/** One container for the commands that only look at it. */
const container = memo(() => newContainer(true));

/** Opens a stream's WebSocket, takes the first chunk (checked as a client reads it), and hangs up (which cancels the stream). */
function firstChunk<O extends StreamOp>(op: O, apiPath: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${world.edge.url.replace("http", "ws")}${apiPath}`, {
      headers: { authorization: `Bearer ${world.session.token}` },
    });
    socket.on("message", (data) => {
      const frame = streamFrameOf(op, data);
      if (frame.type === "chunk") {
        resolve(frame.data);
        socket.close();
      }
    });
    socket.once("unexpected-response", (_request, response) =>
      reject(new Error(`follow refused: ${response.statusCode}`)),
    );
    socket.once("error", reject);
  });
}

/**
 * How each command of the table is reached through the public API. Typed as a record of
 * every op, so a new command without a contract entry does not compile. Each entry sets up
 * what it needs itself, so they run in any order (the suite below shuffles them).
 */
const CONTRACT: Record<Op, () => Promise<unknown>> = {
  ping: async () => (await world.api(`/api/hosts/${world.host.id}/ping`)).body.data,
  "docker.info": async () => (await world.api(`/api/hosts/${world.host.id}`)).body.data.docker,
  "doctor.run": async () => (await world.api(`/api/hosts/${world.host.id}/doctor`, { method: "POST" })).body.data,
  "path.check": async () => {
    const dir = path.join(world.root, "contract-path-check");
    await mkdir(dir);
    return (await world.api("/api/catalog/flexy", { body: { name: "contract-path-check", hostPath: dir } })).body.data;
  },
  "files.write": async () =>
    (
      await world.api(ws((await workspace()).id, "/files/written.txt"), {
        method: "PUT",
        body: { content: "contract" },
      })
    ).body,
  "files.list": async () => (await world.api(ws((await workspace()).id, "/files"))).body,
  "files.read": async () => (await world.api(await fileOnDisk("read.txt"))).body,
  "files.delete": async () => (await world.api(await fileOnDisk("delete.txt"), { method: "DELETE" })).body,
  "git.status": async () => (await world.api(ws((await workspace()).id, "/version-control/status"))).body,
  "git.commit": async () => {
    await fileOnDisk("commit.txt");
    return (
      await world.api(ws((await workspace()).id, "/version-control/commit"), {
        body: { message: "contract", all: true },
      })
    ).body;
  },
  "git.log": async () => (await world.api(ws((await workspace()).id, "/version-control/log"))).body,
  "git.push": async () => {
    const { dir, id } = await workspace();
    await writeFile(path.join(dir, "push.txt"), "contract");
    await git(dir, "add", "push.txt");
    await gitAs(dir, "commit", "-m", "to push");
    return (await world.api(ws(id, "/version-control/push"), { body: {} })).body;
  },
  "git.pull": async () => (await world.api(ws((await workspace()).id, "/version-control/pull"), { body: {} })).body,
  "git.checkout": async () =>
    (
      await world.api(ws((await checkoutWorkspace()).id, "/version-control/checkout"), {
        body: { branch: uniqueName("contract-branch-"), create: true },
      })
    ).body,
  "git.branches": async () => (await world.api(ws((await workspace()).id, "/version-control/branches"))).body,
  "scripts.list": async () => (await world.api(ws((await workspace()).id, "/scripts"))).body,
  "scripts.run": async () =>
    (await world.api(ws((await workspace()).id, "/scripts/hello/run"), { method: "POST" })).body,
  "settings.write": async () =>
    (
      await world.api(ws((await workspace()).id, "/settings/mcp"), {
        method: "PUT",
        body: { one: { command: "true" } },
      })
    ).body,
  "settings.read": async () => {
    const { dir, id } = await workspace();
    await writeFile(path.join(dir, ".mcp.json"), JSON.stringify({ mcpServers: { one: { command: "true" } } }));
    return (await world.api(ws(id, "/settings/mcp"))).body;
  },
  "openspec.state": async () => (await world.api(ws((await workspace()).id, "/openspec"))).body,
  // The e2e agent has no OpenSpec CLI on PATH: the documented answer is CONFLICT.
  "openspec.run": async () =>
    (await world.api(ws((await workspace()).id, "/openspec/actions"), { body: { action: "list" } })).body,
  "workspace.watch": async () => firstChunk("workspace.watch", `/api/v1/ws?workspace_id=${(await workspace()).id}`),
  "directory.list": async () =>
    (await world.api("/api/host/directories", { body: { currentPath: world.root } })).body.data,
  "container.create": async () => {
    const name = uniqueName("kai-e2e-contract-");
    const hostPath = path.join(world.root, name);
    await mkdir(hostPath);
    return (await world.api("/api/flexy", { body: { name, image: world.image, hostPath } })).body.data;
  },
  "container.list": async () => (await world.api("/api/flexy")).body.data,
  "agentSession.start": async () => agentSession(),
  "agentSession.prompt": async () =>
    (await world.api(`/api/v1/agent-sessions/${await agentSession()}/messages`, { body: { message: "hi" } })).body,
  "agentSession.cancel": async () =>
    (await world.api(`/api/v1/agent-sessions/${await agentSession()}/cancel`, { method: "POST" })).body,
  "agentSession.answer": async () => {
    const { session, approval } = await awaitingApproval();
    return (await world.api(`/api/v1/agent-sessions/${session}/approvals/${approval}`, { body: { decision: "allow" } }))
      .body;
  },
  "agentSession.close": async () =>
    (await world.api(`/api/v1/agent-sessions/${await agentSession()}`, { method: "DELETE" })).body,
  // The edge syncs a host's live sessions each time its agent connects: restart the agent with one running.
  "agentSession.sync": async () => {
    const session = await agentSession();
    await world.agent.restart();
    let status = "";
    await until(
      async () => {
        status = (await world.api(`/api/v1/agent-sessions/${session}`)).body.status;
        return status === "interrupted";
      },
      20_000,
      "the session interrupted by the restart",
    );
    return status;
  },
  "container.inspect": async () => (await world.api(`/api/flexy/${await container()}`)).body.data,
  "container.start": async () =>
    (await world.api(`/api/flexy/${await newContainer(false)}/start`, { method: "POST" })).body.data,
  "container.restart": async () =>
    (await world.api(`/api/flexy/${await newContainer(true)}/restart?timeout=1`, { method: "POST" })).body.data,
  "container.stop": async () =>
    (await world.api(`/api/flexy/${await newContainer(true)}/stop?timeout=1`, { method: "POST" })).body.data,
  "container.remove": async () =>
    (await world.api(`/api/flexy/${await newContainer(false)}`, { method: "DELETE" })).body.data,
  "service.list": async () => (await world.api("/api/services?filter=all")).body.data,
  "service.inspect": async () => (await world.api(`/api/services/${await container()}`)).body.data,
  "service.start": async () =>
    (await world.api(`/api/services/${await newContainer(false)}/start`, { method: "POST" })).body.data,
  "service.restart": async () =>
    (await world.api(`/api/services/${await newContainer(true)}/restart?timeout=1`, { method: "POST" })).body.data,
  "service.stop": async () =>
    (await world.api(`/api/services/${await newContainer(true)}/stop?timeout=1`, { method: "POST" })).body.data,
  "service.logs": async () => (await world.api(`/api/services/${chattyId}/logs?lines=5`)).body.data,
  "service.logs.follow": async () => firstChunk("service.logs.follow", `/api/services/${chattyId}/logs/follow?lines=1`),
  "service.stats": async () => (await world.api(`/api/services/${await container()}/stats`)).body.data,
  "system.stats": async () => (await world.api("/api/system/stats")).body.data,
  // No registry can be reached here and the tag is current: the documented answer is NETWORK_ERROR.
  "service.update": async () =>
    (await world.api(`/api/services/${await newContainer(false)}/update?timeout=1`, { method: "POST" })).body.error,
};

/** The outcome each command's round trip ends with; "ok" unless documented otherwise. */
const EXPECTED_OUTCOME: Partial<Record<Op, string>> = { "service.update": "NETWORK_ERROR", "openspec.run": "CONFLICT" };

interface AuditRow {
  id: string;
  op: string;
  outcome: string;
  requestId: string;
}

/** Ids of the audit rows already there, so the command's own row is the one that is new. */
async function auditIds(): Promise<Set<string>> {
  const audit = await world.api("/api/audit?limit=200");
  return new Set((audit.body.data.entries as AuditRow[]).map((row) => row.id));
}

// Shuffled: an entry that leans on another one having run first fails in some order.
describe.shuffle("contract: every command in the table round-trips through the edge and a real agent", () => {
  it("covers exactly the command table", () => {
    expect(Object.keys(CONTRACT).sort()).toEqual([...OPS].sort());
  });

  it.each(Object.keys(CONTRACT) as Op[])("%s", async (op) => {
    // The entry's setup runs inside CONTRACT[op] before its own call; whatever rows it adds
    // (even many) are older than the command's, and rows from earlier entries are excluded.
    const before = await auditIds();
    const data = await CONTRACT[op]();
    expect(data).toBeTruthy();
    const audit = await world.api("/api/audit?limit=200");
    const entry = (audit.body.data.entries as AuditRow[]).find((row) => row.op === op && !before.has(row.id));
    const outcome = EXPECTED_OUTCOME[op] ?? "ok";
    expect(entry, `no audit entry for ${op}`).toMatchObject({ op, outcome });
    // A stream is logged when it ends: the follow above hung up, so the agent stopped it.
    await world.agent.waitFor(
      new RegExp(`request=${entry!.requestId} op=${op.replaceAll(".", "\\.")} outcome=${outcome}`),
      5000,
    );
  });
});
