import { rm } from "node:fs/promises";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { createDockerClient, RemoteEngineError } from "../../agent/runtime/docker/client";
import { agentHome, runAgentCli } from "../support/doctor-cli";
import { ROOT } from "../support/edge-server";

/**
 * kai-agent binds its own machine's directories into containers, so an engine on another
 * machine (DOCKER_HOST=ssh://…) is refused at start, with what to do, before any connection.
 */
const homes: string[] = [];
afterAll(() => Promise.all(homes.map((home) => rm(home, { recursive: true, force: true }))));
afterEach(() => {
  vi.unstubAllEnvs();
});

describe("DOCKER_HOST=ssh://", () => {
  it("is refused by the client, any case of the scheme, and never with the URL's password", () => {
    vi.stubEnv("DOCKER_HOST", "SSH://dev:secret@build-box:2222");
    expect(() => createDockerClient()).toThrow(RemoteEngineError);
    expect(() => createDockerClient()).toThrow(
      /^DOCKER_HOST=ssh:\/\/dev@build-box:2222 is an engine on another machine/,
    );
    expect(() => createDockerClient()).not.toThrow(/secret/);
    vi.stubEnv("DOCKER_HOST", "tcp://127.0.0.1:2375");
    expect(createDockerClient().modem).toMatchObject({ host: "127.0.0.1", protocol: "http" });
  });

  it("gives way to a socket path, which the client then really uses", () => {
    vi.stubEnv("DOCKER_HOST", "ssh://dev@build-box");
    // docker-modem on its own would take DOCKER_HOST's host over the socket path.
    const modem = createDockerClient({ socketPath: "/var/run/docker.sock" }).modem as {
      host?: string;
      socketPath?: string;
    };
    expect(modem.host).toBeUndefined();
    expect(modem.socketPath).toBe("/var/run/docker.sock");
  });

  it("stops kai-agent at start with exit 2 and the fix, without dialling the server", async () => {
    // A closed port: were the agent to dial, it would log the attempt and keep retrying.
    const home = await agentHome("http://127.0.0.1:9", `kai_agent_${"a".repeat(40)}`, { allowedRoots: [ROOT] });
    homes.push(home);
    const run = await runAgentCli([], { home, env: { DOCKER_HOST: "ssh://dev@build-box" } });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("kai-agent: DOCKER_HOST=ssh://dev@build-box is an engine on another machine");
    expect(run.stderr).toContain("run kai-agent on that machine, or unset DOCKER_HOST");
    expect(run.stdout + run.stderr).not.toMatch(/connecting|dial/i);
  });
});
