import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdir, mkdtemp, readFile, realpath, rm, stat, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Edge, ROOT, startEdge } from "../../support/edge-server";
import { request, type Session, signUp, uniqueName } from "../../support/kai-client";

/**
 * Issue 10, point 13: enrolling a machine answered a command with the token in it (visible in
 * `ps` and shell history). The answer is now `kai-agent login --server <origin> --with-token && kai-agent`;
 * this runs exactly that command, as a shell would, with the token typed into login's stdin,
 * against the real Worker on workerd, and checks that the host comes online and answers.
 */

let edge: Edge;
let session: Session;
let tmp: string;
let shell: ChildProcess | undefined;

beforeAll(async () => {
  edge = await startEdge();
  session = await signUp(edge.url);
  tmp = await realpath(await mkdtemp(path.join(os.tmpdir(), "kai-login-e2e-")));
});

afterAll(async () => {
  // The shell and the agent it started share their own process group.
  if (shell?.pid && shell.exitCode === null) {
    try {
      process.kill(-shell.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  await edge?.stop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe("the enrollment command", () => {
  it("holds no token, and run as given (token on stdin) brings the host online", async () => {
    const enrolled = await request<{ data: { host: { id: string }; token: string; command: string } }>(
      edge.url,
      "/api/hosts",
      {
        token: session.token,
        body: { name: uniqueName("login-") },
      },
    );
    expect(enrolled.status).toBe(201);
    const { host, token, command } = enrolled.body.data;
    expect(command).not.toContain(token);
    expect(command).toBe(`kai-agent login --server ${edge.url} --with-token && kai-agent`);

    // `kai-agent` on PATH is the checkout's bin; HOME and XDG_CONFIG_HOME are fresh, as on a new machine.
    const bin = path.join(tmp, "bin");
    await mkdir(bin);
    await symlink(path.join(ROOT, "bin", "kai-agent.mjs"), path.join(bin, "kai-agent"));
    const home = path.join(tmp, "home");
    const xdg = path.join(home, ".config");
    await mkdir(path.join(xdg, "kai"), { recursive: true });
    // The default policy file, so the agent's allowed root is a temp dir, not the tester's home.
    await writeFile(path.join(xdg, "kai", "agent-policy.json"), JSON.stringify({ allowedRoots: [home] }));
    const env: NodeJS.ProcessEnv = {
      PATH: `${bin}${path.delimiter}${process.env.PATH}`,
      HOME: home,
      XDG_CONFIG_HOME: xdg,
    };

    shell = spawn("/bin/sh", ["-c", command], { cwd: home, env, stdio: ["pipe", "pipe", "pipe"], detached: true });
    let output = "";
    shell.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    shell.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    shell.stdin?.end(`${token}\n`);

    const deadline = Date.now() + 90_000;
    while (!/ connected /.test(output)) {
      if (Date.now() > deadline || shell.exitCode !== null)
        throw new Error(`the agent did not connect; output:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(output).toContain("saved the token");
    expect(output).not.toContain(token);
    const configFile = path.join(xdg, "kai", "agent.json");
    expect((await stat(configFile)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(configFile, "utf8"))).toEqual({ server: edge.url, token });

    const ping = await request<{ data: { pong: boolean } }>(edge.url, `/api/hosts/${host.id}/ping`, {
      token: session.token,
    });
    expect(ping.status).toBe(200);
    expect(ping.body.data.pong).toBe(true);

    process.kill(-(shell.pid as number), "SIGTERM");
    await once(shell, "exit");
  });
});
