import { spawn } from "node:child_process";
import { rm } from "node:fs/promises";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createDockerClient, RemoteEngineError } from "../../agent/runtime/docker/client";
import { agentHome } from "../support/doctor-cli";
import { ROOT } from "../support/edge-server";

/**
 * kai-agent binds its own machine's directories into containers, so an engine on another
 * machine (DOCKER_HOST=ssh://…) is refused at start, with what to do, before any connection.
 */
const homes: string[] = [];
afterAll(() => Promise.all(homes.map((home) => rm(home, { recursive: true, force: true }))));

describe("DOCKER_HOST=ssh://", () => {
  it("is refused by the client, and a local socket path still wins over it", () => {
    const env = { DOCKER_HOST: "ssh://dev@build-box" };
    expect(() => createDockerClient({}, env)).toThrow(RemoteEngineError);
    expect(() => createDockerClient({}, env)).toThrow(
      /DOCKER_HOST=ssh:\/\/dev@build-box is an engine on another machine/,
    );
    expect(
      (createDockerClient({ socketPath: "/var/run/docker.sock" }, env).modem as { socketPath?: string }).socketPath,
    ).toBe("/var/run/docker.sock");
    expect(createDockerClient({}, { DOCKER_HOST: "unix:///var/run/docker.sock" })).toBeDefined();
  });

  it("stops kai-agent at start with exit 2 and the fix, without dialling the server", async () => {
    // A closed port: were the agent to dial, it would log the attempt and keep retrying.
    const home = await agentHome("http://127.0.0.1:9", `kai_agent_${"a".repeat(40)}`, { allowedRoots: [ROOT] });
    homes.push(home);
    const run = await runAgent(home, { DOCKER_HOST: "ssh://dev@build-box" });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("kai-agent: DOCKER_HOST=ssh://dev@build-box is an engine on another machine");
    expect(run.stderr).toContain("run kai-agent on that machine, or unset DOCKER_HOST");
    expect(run.stdout + run.stderr).not.toMatch(/connecting|dial/i);
  });
});

function runAgent(
  home: string,
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("KAI_")));
  const child = spawn(process.execPath, ["--import", "tsx", path.join(ROOT, "agent/cli.ts")], {
    cwd: ROOT,
    env: { ...inherited, HOME: home, XDG_CONFIG_HOME: path.join(home, ".config"), ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}
