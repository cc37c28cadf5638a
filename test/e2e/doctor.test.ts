import { chmod, chown, mkdtemp, readdir, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { doctorReport } from "../../shared/schemas/doctor";
import { agentHome, checkOf, reportOf, runDoctorCli } from "../support/doctor-cli";
import { freePort } from "../support/edge-server";
import { enrollHost, request, signUp } from "../support/kai-client";
import { createWorld, type World } from "./world";

/**
 * `kai-agent doctor`, the real CLI from the sources, against a real edge with the host's real
 * agent connected: healthy, then each thing it is there to find. And the same report run
 * inside the connected agent at the edge's request.
 */
let world: World;
const homes: string[] = [];
beforeAll(async () => {
  world = await createWorld();
});
afterAll(async () => {
  await world?.dispose();
  await Promise.all(homes.map((home) => rm(home, { recursive: true, force: true })));
});

async function home(token = world.host.token, policy: Record<string, unknown> = { allowedRoots: [world.root] }) {
  const made = await agentHome(world.edge.url, token, policy);
  homes.push(made);
  return made;
}

/** Every check but the agent profiles must pass on a healthy host (profiles: none installed here). */
const REQUIRED = ["config", "server", "tls", "token", "clock", "docker", "policy", "node", "round-trip"] as const;

describe("kai-agent doctor", () => {
  it("passes every check on a healthy host, exit 0, and --json is the documented report", async () => {
    const run = await runDoctorCli(["--json"], { home: await home() });
    const report = reportOf(run);
    for (const id of REQUIRED) expect(checkOf(report, id), id).toMatchObject({ status: "pass" });
    expect(checkOf(report, "token").detail).toContain(world.host.name);
    expect(checkOf(report, "round-trip").detail).toMatch(/ms from the edge to the running kai-agent/);
    expect(report.ok).toBe(true);
    expect(run.code).toBe(0);

    const human = await runDoctorCli([], { home: await home() });
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^✓ Server reachable /m);
    expect(human.stdout).toContain("kai-agent looks healthy");
  });

  it("fails the server line on a wrong URL (a closed port), exit 1", async () => {
    const port = await freePort();
    const run = await runDoctorCli(["--json", "--server", `http://127.0.0.1:${port}`], { home: await home() });
    const report = reportOf(run);
    expect(checkOf(report, "server")).toMatchObject({ status: "fail" });
    expect(checkOf(report, "server").detail).toContain("connection refused");
    expect(checkOf(report, "server").fix).toContain("kai-agent login --server URL");
    expect(checkOf(report, "token").status).toBe("skip");
    expect(report.ok).toBe(false);
    expect(run.code).toBe(1);

    const human = await runDoctorCli(["--server", `http://127.0.0.1:${port}`], { home: await home() });
    expect(human.code).toBe(1);
    expect(human.stdout).toMatch(/^✗ Server reachable .*connection refused/m);
    expect(human.stdout).toMatch(/^ +fix: check the address/m);
  });

  it("fails the round trip without a running agent, then the token line once the host is revoked", async () => {
    const other = await enrollHost(world.session);
    const offline = reportOf(await runDoctorCli(["--json"], { home: await home(other.token) }));
    expect(checkOf(offline, "token")).toMatchObject({ status: "pass" });
    expect(checkOf(offline, "round-trip")).toMatchObject({ status: "fail" });
    expect(checkOf(offline, "round-trip").fix).toContain("kai-agent service install");

    expect((await world.api(`/api/hosts/${other.id}`, { method: "DELETE" })).status).toBe(200);
    const run = await runDoctorCli(["--json"], { home: await home(other.token) });
    const revoked = reportOf(run);
    expect(checkOf(revoked, "server").status).toBe("pass");
    expect(checkOf(revoked, "token")).toMatchObject({ status: "fail" });
    expect(checkOf(revoked, "token").detail).toContain("refused this host's token");
    expect(checkOf(revoked, "token").fix).toContain("kai-agent login");
    expect(checkOf(revoked, "round-trip").status).toBe("skip");
    expect(run.code).toBe(1);
  });

  it("fails the profiles line when a profile's command is not on PATH", async () => {
    const policy = { allowedRoots: [world.root], agentProfiles: { ghost: { command: "kai-doctor-no-such-agent" } } };
    const run = await runDoctorCli(["--json"], { home: await home(world.host.token, policy) });
    const report = reportOf(run);
    expect(checkOf(report, "profiles")).toMatchObject({ status: "fail" });
    expect(checkOf(report, "profiles").detail).toContain("kai-doctor-no-such-agent not found");
    expect(checkOf(report, "policy").status).toBe("pass");
    expect(run.code).toBe(1);
  });

  it("fails the policy line when an allowed root does not exist", async () => {
    const missing = path.join(world.root, "not-there");
    const run = await runDoctorCli(["--json"], { home: await home(world.host.token, { allowedRoots: [missing] }) });
    const report = reportOf(run);
    expect(checkOf(report, "policy")).toMatchObject({ status: "fail" });
    expect(checkOf(report, "policy").detail).toContain(`${missing} does not exist`);
    expect(checkOf(report, "profiles").status).toBe("skip");
    expect(run.code).toBe(1);
  });

  it("reports a broken configuration as a failing line and still runs the other checks", async () => {
    const made = await home();
    await chmod(path.join(made, ".config", "kai", "agent.json"), 0o644);
    const report = reportOf(await runDoctorCli(["--json"], { home: made }));
    expect(checkOf(report, "config")).toMatchObject({ status: "fail" });
    expect(checkOf(report, "config").detail).toContain("chmod 600");
    expect(checkOf(report, "token").status).toBe("pass");
  });

  it("fails the Docker line for an ssh:// engine, saying to run kai-agent on that machine", async () => {
    const run = await runDoctorCli(["--json"], { home: await home(), env: { DOCKER_HOST: "ssh://dev@build-box" } });
    const docker = checkOf(reportOf(run), "docker");
    expect(docker.status).toBe("fail");
    expect(docker.detail).toContain("DOCKER_HOST=ssh://dev@build-box is an engine on another machine");
    expect(docker.fix).toContain("run kai-agent on that machine");
    expect(run.code).toBe(1);
  });

  it("fails the Docker line with the docker group hint when this user may not open the socket", async () => {
    // Root opens any socket whatever its mode: the doctor runs as nobody, against a real
    // listening unix socket owned by root with mode 0600, as the engine's is to a user
    // outside the docker group.
    const dir = await mkdtemp(path.join(os.tmpdir(), "kai-doctor-sock-"));
    homes.push(dir);
    await chmod(dir, 0o755);
    const socket = path.join(dir, "docker.sock");
    const listener = net.createServer((connection) => connection.destroy());
    await new Promise<void>((resolve) => listener.listen(socket, resolve));
    try {
      await chmod(socket, 0o600);
      const nobody = { uid: 65534, gid: 65534 };
      const made = await home();
      await chownTree(made, nobody);
      const run = await runDoctorCli(["--json", "--docker-socket", socket], { home: made, as: nobody });
      const report = reportOf(run);
      const docker = checkOf(report, "docker");
      expect(docker.status).toBe("fail");
      expect(docker.detail).toContain(`permission denied on ${socket}`);
      expect(docker.fix).toContain("sudo usermod -aG docker $USER");
      // The rest of the run is as nobody too, and fine: only Docker is in the way.
      expect(checkOf(report, "token").status).toBe("pass");
      expect(run.code).toBe(1);
    } finally {
      await new Promise((resolve) => listener.close(resolve));
    }
  });
});

async function chownTree(dir: string, owner: { uid: number; gid: number }): Promise<void> {
  await chown(dir, owner.uid, owner.gid);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) await chownTree(full, owner);
    else await chown(full, owner.uid, owner.gid);
  }
}

describe("POST /api/hosts/{id}/doctor", () => {
  it("runs the doctor inside the connected agent and answers its report", async () => {
    const res = await world.api(`/api/hosts/${world.host.id}/doctor`, { method: "POST" });
    expect(res.status).toBe(200);
    const report = doctorReport.parse(res.body.data);
    expect(report.ok).toBe(true);
    expect(checkOf(report, "round-trip")).toMatchObject({ status: "pass" });
    expect(checkOf(report, "round-trip").detail).toContain("the edge asked");
    expect(checkOf(report, "token").detail).toContain(world.host.name);
    expect(checkOf(report, "docker").status).toBe("pass");
  });

  it("is 404 for another user's host, and 503 AGENT_OFFLINE for a host without its agent", async () => {
    const stranger = await signUp(world.edge.url);
    const res = await request(world.edge.url, `/api/hosts/${world.host.id}/doctor`, {
      method: "POST",
      token: stranger.token,
    });
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe("NOT_FOUND");

    const idle = await enrollHost(world.session);
    const offline = await world.api(`/api/hosts/${idle.id}/doctor`, { method: "POST" });
    expect(offline.status).toBe(503);
    expect(offline.body.error.code).toBe("AGENT_OFFLINE");
  });

  it("answers 401 in Kai's format to an agent route without a valid agent token", async () => {
    const whoami = await request(world.edge.url, "/api/agent/whoami", { token: "kai_agent_nope" });
    expect(whoami.status).toBe(401);
    expect(whoami.body.error.code).toBe("UNAUTHORIZED");
    const ping = await request(world.edge.url, "/api/agent/ping", { method: "POST", token: world.session.token });
    expect(ping.status).toBe(401);
  });
});
