import { createHash } from "node:crypto";
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { buildAgentBundle } from "../../scripts/agent-bundle";
import { type Edge, ROOT, startEdge } from "../support/edge-server";
import { enrollHost, request, type Session, signUp } from "../support/kai-client";
import { buildOldAgent, OLD_AGENT_VERSION } from "../support/old-agent";
import { runAgent } from "../support/run-agent";
import { servedRelease } from "../support/served-release";
import { setupOrFail } from "../support/setup-or-fail";
import { until } from "../support/until";
import { startUserManager, type UserManager } from "../support/user-manager";

/**
 * `kai-agent upgrade` from an older bundle against the real edge, which serves the release
 * `npm run build:web` put in web/dist/agent: the bundle is swapped in place and verified; a
 * server serving a wrong checksum changes nothing; and under a real systemd user manager the
 * service is restarted onto the new version, which the edge sees in its hello.
 */

let edge: Edge;
let session: Session;
let dir: string;
let oldBundle: string;
/** A bundle newer than any release served: the edge's release would be a downgrade for it. */
let newerBundle: string;
const NEWER_VERSION = "99.0.0";
let served: { version: string; sha256: string; size: number };

const setup = setupOrFail(
  async () => {
    served = await servedRelease();
    dir = await mkdtemp(path.join(os.tmpdir(), "kai-upgrade-"));
    oldBundle = path.join(dir, "old", "kai-agent.mjs");
    await buildOldAgent(oldBundle);
    newerBundle = path.join(dir, "newer", "kai-agent.mjs");
    await buildAgentBundle(newerBundle, { version: NEWER_VERSION });
    edge = await startEdge();
    session = await signUp(edge.url);
  },
  { timeoutMs: 180_000 },
);
afterAll(async () => {
  if (!setup.ready) return;
  await edge.stop();
  await rm(dir, { recursive: true, force: true });
});

const sha256 = async (file: string) =>
  createHash("sha256")
    .update(await readFile(file))
    .digest("hex");

/** A home as install.sh leaves it: the old bundle in ~/.local/share/kai, a 0600 config with the server. */
async function installedHome(name: string, config: { server: string; token?: string }, from = oldBundle) {
  const home = path.join(dir, name);
  const bundle = path.join(home, ".local", "share", "kai", "kai-agent.mjs");
  await mkdir(path.dirname(bundle), { recursive: true });
  await copyFile(from, bundle);
  const configFile = path.join(home, ".config", "kai", "agent.json");
  await mkdir(path.dirname(configFile), { recursive: true });
  await writeFile(configFile, JSON.stringify(config), { mode: 0o600 });
  const { XDG_CONFIG_HOME: _c, KAI_CONFIG: _k, KAI_SERVER: _s, DBUS_SESSION_BUS_ADDRESS: _d, ...env } = process.env;
  return { home, bundle, env: { ...env, HOME: home } as NodeJS.ProcessEnv };
}

describe("kai-agent upgrade", () => {
  it("replaces an older bundle with the served release, verified, and is up to date the second time", async () => {
    const { bundle, env } = await installedHome("plain", { server: edge.url });

    const check = await runAgent([bundle], ["upgrade", "--check"], env);
    expect(check.code).toBe(0);
    expect(check.stdout).toContain(`kai-agent ${OLD_AGENT_VERSION} is running; ${edge.url} serves ${served.version}`);
    expect(await sha256(bundle)).toBe(await sha256(oldBundle));

    const upgrade = await runAgent([bundle], ["upgrade"], env);
    expect(upgrade.stderr).toBe("");
    expect(upgrade.code).toBe(0);
    expect(upgrade.stdout).toContain(`verified size and sha256 ${served.sha256}`);
    expect(upgrade.stdout).toContain(`installed kai-agent ${served.version} at ${bundle} (was ${OLD_AGENT_VERSION})`);
    expect(upgrade.stdout).toContain(`restart kai-agent to run ${served.version}`);
    expect(await sha256(bundle)).toBe(served.sha256);
    expect((await stat(bundle)).mode & 0o777).toBe(0o755);
    expect(await readdir(path.dirname(bundle))).toEqual(["kai-agent.mjs"]);
    expect((await runAgent([bundle], ["--version"], env)).stdout.trim()).toBe(served.version);

    const again = await runAgent([bundle], ["upgrade"], env);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`kai-agent ${served.version} is already up to date`);
  });

  it("changes nothing when the served checksum does not match, or the server cannot be reached", async () => {
    // A real server serving the real bundle under a manifest whose checksum is wrong.
    const bytes = await readFile(path.join(ROOT, "web", "dist", "agent", "kai-agent.mjs"));
    const manifest = { ...served, file: "kai-agent.mjs", node: ">=20.19", sha256: "0".repeat(64) };
    const server = http.createServer((req, res) => {
      if (req.url === "/agent/kai-agent.json") res.end(JSON.stringify(manifest));
      else if (req.url === "/agent/kai-agent.mjs") res.end(bytes);
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const wrong = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const { bundle, env } = await installedHome("mismatch", { server: wrong });
      const result = await runAgent([bundle], ["upgrade"], env);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain("checksum mismatch");
      expect(result.stderr).toContain("Nothing was changed.");
      expect(await sha256(bundle)).toBe(await sha256(oldBundle));
      expect(await readdir(path.dirname(bundle))).toEqual(["kai-agent.mjs"]);

      await new Promise((resolve) => server.close(resolve));
      const gone = await runAgent([bundle], ["upgrade", "--server", wrong], env);
      expect(gone.code).toBe(1);
      expect(gone.stderr).toContain(`cannot reach ${wrong}`);
      expect(await sha256(bundle)).toBe(await sha256(oldBundle));
    } finally {
      server.close();
    }
  });

  it("does not downgrade a newer agent unless --allow-downgrade is given", async () => {
    const { bundle, env } = await installedHome("newer", { server: edge.url }, newerBundle);

    for (const args of [["upgrade", "--check"], ["upgrade"]]) {
      const result = await runAgent([bundle], args, env);
      expect(result.code).toBe(0);
      expect(result.stdout).toContain(`${served.version} is older than this kai-agent ${NEWER_VERSION}: nothing to do`);
      expect(result.stdout).toContain("kai-agent upgrade --allow-downgrade");
      expect(result.stdout).not.toContain("installed kai-agent");
      expect(await sha256(bundle)).toBe(await sha256(newerBundle));
    }

    const downgrade = await runAgent([bundle], ["upgrade", "--allow-downgrade"], env);
    expect(downgrade.code).toBe(0);
    expect(downgrade.stdout).toContain(`installed kai-agent ${served.version} at ${bundle} (was ${NEWER_VERSION})`);
    expect(await sha256(bundle)).toBe(served.sha256);
  });

  it("refuses to replace a source checkout", async () => {
    const result = await runAgent(["--import", "tsx", path.join(ROOT, "agent/cli.ts")], ["upgrade"], {
      ...process.env,
      KAI_SERVER: edge.url,
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("git pull");
  });
});

describe("kai-agent upgrade under a real systemd user manager", () => {
  let manager: UserManager | undefined;
  afterAll(async () => manager?.stop());

  it("restarts the service onto the new version; a revoked token then stops it for good", async () => {
    const host = await enrollHost(session);
    const { home, bundle, env: baseEnv } = await installedHome("service", { server: edge.url, token: host.token });
    manager = await startUserManager(home);
    const env = { ...baseEnv, ...manager.env };
    const version = async () =>
      (await request(edge.url, `/api/hosts/${host.id}/session`, { token: session.token })).body.data as {
        connected: boolean;
        agentVersion: string | null;
      };

    const install = await runAgent([bundle], ["service", "install"], env);
    expect(install.code).toBe(0);
    await until(async () => (await version()).agentVersion === OLD_AGENT_VERSION, 30_000, "the old agent connected");

    const upgrade = await runAgent([bundle], ["upgrade"], env);
    expect(upgrade.code).toBe(0);
    expect(upgrade.stdout).toContain("restarted kai-agent.service through systemd");
    await until(async () => (await version()).agentVersion === served.version, 30_000, "the new agent connected");

    // Deleting the host revokes its token: the agent exits 3 and systemd does not start it again.
    const deleted = await request(edge.url, `/api/hosts/${host.id}`, { method: "DELETE", token: session.token });
    expect(deleted.status).toBe(200);
    await until(async () => (await manager?.show("kai-agent.service"))?.ActiveState === "failed", 30_000, "failed");
    const shown = await manager.show("kai-agent.service");
    expect(shown.ExecMainStatus).toBe("3");
    expect(shown.NRestarts).toBe("0");
    const status = await runAgent([bundle], ["service", "status"], env);
    expect(status.code).toBe(1);
    expect(status.stdout).toContain("failed (failed), enabled");

    // An upgrade is what a failed service may need (protocol too old): it starts it again.
    await copyFile(oldBundle, bundle);
    const fix = await runAgent([bundle], ["upgrade"], env);
    expect(fix.stdout).toContain("restarted kai-agent.service through systemd");
    expect((await manager.show("kai-agent.service")).InvocationID).not.toBe(shown.InvocationID);

    expect((await runAgent([bundle], ["service", "uninstall"], env)).code).toBe(0);
  });
});
