import { mkdir, mkdtemp, readFile, realpath, rm, stat, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import type { ChunkOf } from "../../shared/command-replies";
import { gitAsAsync } from "../support/git-identity";
import { request, signUp, streamFrameOf } from "../support/kai-client";
import { createWorld, type World } from "./world";

let world: World;
let workspace: string;
let workspaceId: string;
let outside: string;
let remote: string;

const run = (cwd: string, ...args: string[]) => gitAsAsync({ name: "t", email: "t@t" }, cwd, ...args);
const ws = (suffix: string) => `/api/v1/workspaces/${workspaceId}${suffix}`;

beforeAll(async () => {
  world = await createWorld();
  workspace = path.join(world.root, "project");
  await mkdir(workspace);
  outside = await realpath(await mkdtemp(path.join(os.tmpdir(), "kai-ws-outside-")));
  await writeFile(path.join(outside, "secret.txt"), "TOP-SECRET-CONTENT");
  remote = await realpath(await mkdtemp(path.join(os.tmpdir(), "kai-ws-remote-")));
  await run(remote, "init", "--bare", "-b", "main");
  await run(workspace, "init", "-b", "main");
  await run(workspace, "remote", "add", "origin", remote);
  await writeFile(path.join(workspace, "README.md"), "# project\n");
  await writeFile(
    path.join(workspace, "package.json"),
    JSON.stringify({ name: "p", scripts: { hello: "echo hello-from-script && echo oops >&2" } }),
  );
  await run(workspace, "add", "-A");
  await run(workspace, "commit", "-m", "initial");
  await run(workspace, "push", "-u", "origin", "main");
  await symlink(outside, path.join(workspace, "escape"));
  const item = await world.api("/api/catalog/flexy", { body: { name: "project", hostPath: workspace } });
  workspaceId = item.body.data.id;
});
afterAll(async () => {
  await world?.dispose();
  await rm(outside, { recursive: true, force: true });
  await rm(remote, { recursive: true, force: true });
});

describe("workspace files through the relay", () => {
  it("writes, lists, reads and deletes, scoped and unscoped", async () => {
    const put = await world.api(ws("/files/docs/notes.md"), {
      method: "PUT",
      body: { content: "hello\n", create_parents: true },
    });
    expect(put.status).toBe(200);
    expect(await readFile(path.join(workspace, "docs/notes.md"), "utf8")).toBe("hello\n");
    const listed = await world.api(`/api/v1/files?path=docs`, { headers: { "X-Kai-Workspace": workspaceId } });
    expect(listed.body.entries.map((entry: { name: string }) => entry.name)).toEqual(["notes.md"]);
    const read = await world.api(`/api/v1/files/docs/notes.md?workspace_id=${workspaceId}`);
    expect(read.body).toMatchObject({ path: "docs/notes.md", content: "hello\n" });
    const hidden = await world.api(ws("/files?hidden=true"));
    expect(hidden.body.entries.map((entry: { name: string }) => entry.name)).toContain(".git");
    expect((await world.api(ws("/files"))).body.entries.map((entry: { name: string }) => entry.name)).not.toContain(
      ".git",
    );
    expect((await world.api(ws("/files/docs"), { method: "DELETE" })).status).toBe(409);
    expect((await world.api(ws("/files/docs?recursive=true"), { method: "DELETE" })).status).toBe(200);
    await expect(stat(path.join(workspace, "docs"))).rejects.toThrow();
  });

  it("moves a 3 MiB binary file in chunks, byte for byte, and serves it with its content type", async () => {
    const bytes = Buffer.alloc(3 * 1024 * 1024 + 17);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31 + 7) % 256;
    const put = await fetch(`${world.edge.url}${ws("/files/big.bin")}`, {
      method: "PUT",
      headers: { authorization: `Bearer ${world.session.token}`, "content-type": "application/octet-stream" },
      body: bytes,
    });
    expect(put.status).toBe(200);
    expect(Buffer.compare(await readFile(path.join(workspace, "big.bin")), bytes)).toBe(0);
    const got = await fetch(`${world.edge.url}${ws("/files/big.bin")}`, {
      headers: { authorization: `Bearer ${world.session.token}` },
    });
    expect(got.headers.get("content-type")).toBe("application/octet-stream");
    expect(got.headers.get("content-disposition")).toBe(`attachment; filename="big.bin"; filename*=UTF-8''big.bin`);
    expect(Buffer.compare(Buffer.from(await got.arrayBuffer()), bytes)).toBe(0);
    // Several read requests reached the agent: no single frame carried the file.
    const audit = await world.api("/api/audit?limit=50");
    expect(
      audit.body.data.entries.filter((entry: { op: string }) => entry.op === "files.read").length,
    ).toBeGreaterThanOrEqual(7);
  });

  it("uploads several files with multipart", async () => {
    const form = new FormData();
    form.append("files", new Blob(["a"]), "a.txt");
    form.append("files", new Blob(["bb"]), "b.txt");
    form.append("path", "uploads");
    form.append("create_parents", "true");
    const res = await fetch(`${world.edge.url}${ws("/files/upload")}`, {
      method: "POST",
      headers: { authorization: `Bearer ${world.session.token}` },
      body: form,
    });
    expect(res.status).toBe(201);
    expect(await readFile(path.join(workspace, "uploads/b.txt"), "utf8")).toBe("bb");
  });

  it.each([
    ["a parent traversal", "/files/..%2Fsecret.txt"],
    ["a deep traversal", "/files/a%2F..%2F..%2F..%2Fetc%2Fpasswd"],
    ["a symlink leading out", "/files/escape/secret.txt"],
    ["an absolute path", "/files/%2Fetc%2Fpasswd"],
  ])("refuses %s", async (_label, suffix) => {
    const res = await world.api(ws(suffix));
    expect([403, 422]).toContain(res.status);
    expect(res.headers.get("content-type")).toContain("application/problem+json");
    expect(JSON.stringify(res.body)).not.toContain("TOP-SECRET-CONTENT");
    const write = await world.api(ws(suffix), { method: "PUT", body: { content: "pwned" } });
    expect([403, 422]).toContain(write.status);
    expect(await readFile(path.join(outside, "secret.txt"), "utf8")).toBe("TOP-SECRET-CONTENT");
  });

  it("hides another user's workspace", async () => {
    const stranger = await signUp(world.edge.url);
    const res = await request(world.edge.url, ws("/files"), { token: stranger.token });
    expect(res.status).toBe(404);
    expect(res.body.code).toBe("NOT_FOUND");
    const unscoped = await request(world.edge.url, "/api/v1/files", {
      token: stranger.token,
      headers: { "X-Kai-Workspace": workspaceId },
    });
    expect(unscoped.status).toBe(404);
    expect((await world.api("/api/v1/files")).status).toBe(422);
  });
});

describe("version control through the relay", () => {
  it("reports status, commits as the Kai user, logs, branches and checks out", async () => {
    await writeFile(path.join(workspace, "change.txt"), "x");
    const status = await world.api(ws("/version-control/status"));
    expect(status.body).toMatchObject({ branch: "main", clean: false });
    expect(status.body.files.map((file: { path: string }) => file.path)).toContain("change.txt");
    const commit = await world.api(ws("/version-control/commit"), {
      body: { message: "add change", paths: ["change.txt"] },
    });
    expect(commit.status).toBe(200);
    const { stdout } = await run(workspace, "log", "-1", "--format=%an|%ae|%s");
    expect(stdout.trim()).toBe(`${world.session.email.split("@")[0]}|${world.session.email}|add change`);
    const log = await world.api(ws("/version-control/log?limit=1&page=1"));
    expect(log.body.commits[0].message).toContain("add change");
    expect(log.body.hasMore).toBe(true);
    const created = await world.api(ws("/version-control/checkout"), { body: { branch: "feature/x", create: true } });
    expect(created.body).toEqual({ branch: "feature/x", created: true });
    const branches = await world.api(ws("/version-control/branches"));
    expect(branches.body.current).toBe("feature/x");
    await world.api(ws("/version-control/checkout"), { body: { branch: "main" } });
  });

  it("refuses option-like branch names without running anything", async () => {
    const marker = path.join(os.tmpdir(), `kai-pwned-${process.pid}`);
    for (const branch of [`--upload-pack=touch ${marker}`, "-f", "--orphan"]) {
      const res = await world.api(ws("/version-control/checkout"), { body: { branch, create: true } });
      expect(res.status).toBe(422);
    }
    await expect(stat(marker)).rejects.toThrow();
  });

  it("pushes and pulls against a bare repository, and reports a rejected push as CONFLICT", async () => {
    const pushed = await world.api(ws("/version-control/push"), { body: {} });
    expect(pushed.status).toBe(200);
    // Someone else pushes first from another clone.
    const other = await mkdtemp(path.join(os.tmpdir(), "kai-ws-other-"));
    await run(other, "clone", remote, ".");
    await writeFile(path.join(other, "theirs.txt"), "theirs");
    await run(other, "add", "-A");
    await run(other, "commit", "-m", "theirs");
    await run(other, "push", "origin", "main");
    await writeFile(path.join(workspace, "mine.txt"), "mine");
    await world.api(ws("/version-control/commit"), { body: { message: "mine", all: true } });
    const rejected = await world.api(ws("/version-control/push"), { body: {} });
    expect(rejected.status).toBe(409);
    expect(rejected.body.code).toBe("CONFLICT");
    const pulled = await world.api(ws("/version-control/pull"), { body: {} });
    expect(pulled.status).toBe(200);
    expect(await readFile(path.join(workspace, "theirs.txt"), "utf8")).toBe("theirs");
    expect((await world.api(ws("/version-control/push"), { body: {} })).status).toBe(200);
    await rm(other, { recursive: true, force: true });
  });
});

describe("scripts, settings and OpenSpec through the relay", () => {
  it("lists and runs a script, returning its output and exit code; an unknown name runs nothing", async () => {
    const listed = await world.api(ws("/scripts"));
    expect(listed.body.scripts.map((script: { name: string }) => script.name)).toContain("hello");
    const ran = await world.api(ws("/scripts/hello/run"), { method: "POST" });
    expect(ran.body).toMatchObject({ name: "hello", exitCode: 0, timedOut: false });
    expect(ran.body.output).toContainEqual({ stream: "stdout", data: expect.stringContaining("hello-from-script") });
    expect(ran.body.output).toContainEqual({ stream: "stderr", data: expect.stringContaining("oops") });
    expect(
      (await world.api(ws(`/scripts/${encodeURIComponent("hello; touch /tmp/x")}/run`), { method: "POST" })).status,
    ).toBe(404);
  });

  it("reads and writes Claude Code settings, hooks and MCP servers", async () => {
    await mkdir(path.join(workspace, ".claude"), { recursive: true });
    await writeFile(path.join(workspace, ".claude/settings.json"), JSON.stringify({ theme: "dark", hooks: {} }));
    const hooks = { PostToolUse: [{ matcher: "Write", hooks: [{ type: "command", command: "npm run lint" }] }] };
    expect((await world.api(ws("/settings/hooks"), { method: "PUT", body: hooks })).status).toBe(200);
    const file = JSON.parse(await readFile(path.join(workspace, ".claude/settings.json"), "utf8"));
    expect(file).toEqual({ theme: "dark", hooks });
    expect((await world.api(ws("/settings"))).body).toMatchObject({ theme: "dark" });
    const mcp = { files: { command: "npx", args: ["-y", "@modelcontextprotocol/server-filesystem"] } };
    expect(
      (await world.api(`/api/v1/settings/mcp?workspace_id=${workspaceId}`, { method: "PUT", body: mcp })).status,
    ).toBe(200);
    expect(JSON.parse(await readFile(path.join(workspace, ".mcp.json"), "utf8"))).toEqual({ mcpServers: mcp });
    const bad = await world.api(ws("/settings/hooks"), {
      method: "PUT",
      body: { PostToolUse: [{ hooks: [{ type: "command" }] }] },
    });
    expect(bad.status).toBe(422);
  });

  it("reports OpenSpec state", async () => {
    await mkdir(path.join(workspace, "openspec/specs/auth"), { recursive: true });
    await writeFile(path.join(workspace, "openspec/specs/auth/spec.md"), "# auth\n");
    await mkdir(path.join(workspace, "openspec/changes/add-login"), { recursive: true });
    await writeFile(path.join(workspace, "openspec/changes/add-login/tasks.md"), "- [x] one\n- [ ] two\n");
    const state = await world.api(ws("/openspec"));
    expect(state.body).toMatchObject({
      initialized: true,
      specs: [{ name: "auth" }],
      changes: [{ name: "add-login", tasks: { total: 2, done: 1 } }],
    });
    // No OpenSpec CLI on this agent's PATH: nothing is offered, and running an action says why.
    const action = await world.api(ws("/openspec/actions"), { body: { action: "validate", change: "add-login" } });
    expect(action.status).toBe(409);
    expect(action.body).toMatchObject({
      code: "CONFLICT",
      detail: expect.stringContaining("the OpenSpec CLI is not installed on this host"),
    });
  });
});

describe("live workspace events", () => {
  it("delivers a file changed on disk to a connected WebSocket client", async () => {
    const socket = new WebSocket(`${world.edge.url.replace("http", "ws")}/api/v1/ws?workspace_id=${workspaceId}`, {
      headers: { authorization: `Bearer ${world.session.token}` },
    });
    const events: ChunkOf<"workspace.watch">[] = [];
    socket.on("message", (data) => {
      const frame = streamFrameOf("workspace.watch", data);
      if (frame.type === "chunk") events.push(frame.data);
    });
    await new Promise((resolve, reject) => {
      socket.once("open", resolve);
      socket.once("error", reject);
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    await writeFile(path.join(workspace, "live.txt"), "now");
    const deadline = Date.now() + 5000;
    while (
      !events.some((event) => event.type === "file_changed" && event.path === "live.txt") &&
      Date.now() < deadline
    ) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    socket.close();
    expect(events).toContainEqual({ type: "file_changed", path: "live.txt", event_type: "created" });
  });
});
