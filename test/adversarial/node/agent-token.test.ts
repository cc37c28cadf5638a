import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { once } from "node:events";
import fs from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type WebSocket, WebSocketServer } from "ws";
import { agentFrame, PROTOCOL_VERSION, parseFrame } from "../../../shared/protocol";

/**
 * Issue 10, point 12: a workspace script read the agent token from /proc/<agent>/environ
 * (KAI_TOKEN) — and from /proc/<agent>/cmdline with --token. A real kai-agent process, started
 * the new ways (a 0600 --token-file, or `kai-agent login --with-token` then a bare `kai-agent`), runs a
 * real workspace script through the real scripts.run path, relayed by a WebSocket peer
 * standing in for the edge; neither the script nor anyone reading /proc finds the token.
 * The old ways are refused before the agent dials.
 */

const ROOT = path.resolve(import.meta.dirname, "../../..");
const CLI = path.join(ROOT, "agent", "cli.ts");
const TOKEN = `kai_agent_${randomBytes(24).toString("hex")}`;

let tmp: string;
let workspace: string;
let policyFile: string;

beforeAll(async () => {
  tmp = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), "kai-agent-token-")));
  workspace = path.join(tmp, "workspace");
  await fs.mkdir(workspace);
  // What an attacker's script does: read its parent's (the agent's) environment and command line.
  const peek =
    'echo "ppid=$PPID"; for f in environ cmdline; do echo "== $f"; tr "\\0" "\\n" < /proc/$PPID/$f; echo; done';
  await fs.writeFile(path.join(workspace, "package.json"), JSON.stringify({ name: "w", scripts: { peek } }));
  policyFile = path.join(tmp, "policy.json");
  await fs.writeFile(policyFile, JSON.stringify({ allowedRoots: [workspace] }));
});

afterAll(async () => {
  if (tmp) await fs.rm(tmp, { recursive: true, force: true });
});

const children: ChildProcess[] = [];
const closers: (() => void)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) close();
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGKILL");
      await once(child, "exit");
    }
  }
});

/** A WebSocket peer in the edge's place: welcomes the agent, then runs `peek` through scripts.run. */
async function edgePeer() {
  const server = createServer();
  const wss = new WebSocketServer({ server });
  const dials: string[] = [];
  let output = "";
  let resolveDone: (result: unknown) => void = () => undefined;
  const done = new Promise<unknown>((resolve) => (resolveDone = resolve));
  wss.on("headers", (headers) => headers.push("X-Kai-Host-Id: host-token-test"));
  wss.on("connection", (ws: WebSocket, request) => {
    dials.push(String(request.headers.authorization ?? ""));
    const id = randomUUID();
    ws.on("message", (data) => {
      const text = data.toString();
      if (text === "ping") return ws.send("pong");
      const frame = parseFrame(agentFrame, text);
      if (frame?.type === "hello") {
        ws.send(
          JSON.stringify({
            type: "welcome",
            protocolVersion: PROTOCOL_VERSION,
            hostId: frame.hostId,
            hostName: "token-test",
          }),
        );
        ws.send(
          JSON.stringify({
            type: "req",
            id,
            op: "scripts.run",
            params: { root: workspace, name: "peek", timeoutSeconds: 30 },
          }),
        );
      } else if (frame?.type === "chunk") {
        output += (frame.data as { data: string }).data;
      } else if (frame?.type === "chunks") {
        for (const chunk of frame.data) output += (chunk as { data: string }).data;
      } else if (frame?.type === "res" && frame.id === id) {
        resolveDone(frame);
      }
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  closers.push(() => {
    for (const client of wss.clients) client.terminate();
    wss.close();
    server.close();
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, dials, done, output: () => output };
}

/** The environment a user's shell would give the agent, with no KAI_* of the test runner's. */
function cleanEnv(xdg: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { XDG_CONFIG_HOME: xdg, HOME: tmp, ...extra };
  for (const [key, value] of Object.entries(process.env))
    if (!key.startsWith("KAI_") && !(key in env)) env[key] = value;
  return env;
}

function startAgent(
  args: string[],
  env: NodeJS.ProcessEnv,
): { child: ChildProcess; log: () => string; exit: Promise<number | null> } {
  const child = spawn(process.execPath, ["--import", "tsx", CLI, ...args], {
    cwd: ROOT,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let log = "";
  child.stdout?.on("data", (chunk: Buffer) => (log += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (log += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, log: () => log, exit };
}

async function runPeekThrough(
  agent: ReturnType<typeof startAgent>,
  edge: Awaited<ReturnType<typeof edgePeer>>,
): Promise<string> {
  const timeout = new Promise((_, reject) =>
    setTimeout(() => reject(new Error(`the script never finished; agent log:\n${agent.log()}`)), 90_000).unref(),
  );
  const exited = agent.exit.then((code) => {
    throw new Error(`the agent exited (${code}) before the script finished; its log:\n${agent.log()}`);
  });
  await Promise.race([edge.done, timeout, exited]);
  return edge.output();
}

async function procFile(pid: number, name: "environ" | "cmdline"): Promise<string> {
  return (await fs.readFile(`/proc/${pid}/${name}`)).toString("utf8").replaceAll("\0", "\n");
}

describe("a workspace script cannot find the agent token in the agent's process", () => {
  // Generous timeouts: each case starts real Node processes with tsx on a shared 2-core machine.
  it("when the token comes from a 0600 --token-file", { timeout: 120_000 }, async () => {
    const edge = await edgePeer();
    const tokenFile = path.join(tmp, "token");
    await fs.writeFile(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
    const agent = startAgent(
      ["--server", edge.url, "--token-file", tokenFile, "--policy", policyFile],
      cleanEnv(path.join(tmp, "xdg-file")),
    );
    const output = await runPeekThrough(agent, edge);
    // The script did read the agent's own /proc files (its parent is the agent)...
    expect(output).toContain(`ppid=${agent.child.pid}`);
    expect(output).toContain("== environ");
    expect(output).toContain("--token-file");
    // ...and the token is in neither. The agent did authenticate with it.
    expect(output).not.toContain(TOKEN);
    expect(edge.dials[0]).toBe(`Bearer ${TOKEN}`);
    const pid = agent.child.pid as number;
    expect(await procFile(pid, "environ")).not.toContain(TOKEN);
    expect(await procFile(pid, "cmdline")).not.toContain(TOKEN);
  });

  it("when the token was saved by `kai-agent login --with-token` (from stdin) and the agent starts bare", {
    timeout: 120_000,
  }, async () => {
    const edge = await edgePeer();
    const xdg = path.join(tmp, "xdg-login");
    const env = cleanEnv(xdg);
    const loginCode = await new Promise<number>((resolve) => {
      const login = execFile(
        process.execPath,
        ["--import", "tsx", CLI, "login", "--server", edge.url, "--with-token"],
        { cwd: ROOT, env },
        (error) => resolve(error ? Number(error.code ?? 1) : 0),
      );
      login.stdin?.end(`${TOKEN}\n`);
    });
    expect(loginCode).toBe(0);
    const agent = startAgent(["--policy", policyFile], env);
    const output = await runPeekThrough(agent, edge);
    expect(output).toContain(`ppid=${agent.child.pid}`);
    expect(output).not.toContain(TOKEN);
    expect(edge.dials[0]).toBe(`Bearer ${TOKEN}`);
    const pid = agent.child.pid as number;
    expect(await procFile(pid, "environ")).not.toContain(TOKEN);
    expect(await procFile(pid, "cmdline")).not.toContain(TOKEN);
  });
});

describe("the old ways of giving the token, which exposed it, are refused before any dial", () => {
  it.each([
    ["--token on the command line", ["--token", TOKEN], {}, "--token is no longer accepted"],
    ["KAI_TOKEN in the environment", [], { KAI_TOKEN: TOKEN }, "KAI_TOKEN is no longer read"],
  ])("%s", { timeout: 120_000 }, async (_name, args, extraEnv, message) => {
    const edge = await edgePeer();
    const agent = startAgent(
      ["--server", edge.url, ...args, "--policy", policyFile],
      cleanEnv(path.join(tmp, "xdg-old"), extraEnv),
    );
    expect(await agent.exit).toBe(2);
    expect(agent.log()).toContain(message);
    expect(agent.log()).toContain("kai-agent login --server URL");
    expect(agent.log()).not.toContain(TOKEN);
    expect(edge.dials).toEqual([]);
  });
});
