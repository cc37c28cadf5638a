import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, mkdir, mkdtemp, readdir, readFile, stat, symlink, writeFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { installScript } from "../../edge/install/install-script";
import type { AgentManifest } from "../../scripts/agent-bundle";
import { AGENT_RELEASE } from "../../shared/version";
import { type Edge, startEdge } from "../support/edge-server";
import {
  installedLayout,
  type RunningInstaller,
  runInstaller,
  startInstaller,
  tempHome,
  type XdgDirs,
} from "../support/installer";
import { enrollHost, request, type Session, signUp } from "../support/kai-client";
import { RELEASE_DIR, servedRelease } from "../support/served-release";
import { until } from "../support/until";

/**
 * `/install.sh` end to end: the real Worker serves the script and the agent release, real curl
 * pipes it into dash (Debian's /bin/sh) and bash with a temporary HOME, and the agent it
 * installs connects. The refusals (Node too old, a bundle that does not match its manifest)
 * must leave the home untouched.
 */

const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

let edge: Edge;
let session: Session;
let manifest: AgentManifest;
const children: ChildProcess[] = [];
const installers: RunningInstaller[] = [];
beforeAll(async () => {
  manifest = await servedRelease();
  edge = await startEdge();
  session = await signUp(edge.url);
});
afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  for (const installer of installers) installer.kill("SIGKILL");
  await edge?.stop();
});

/** A home where `kai-agent login` already ran for this server: the re-install path. */
async function loggedInHome(token: string, xdg: XdgDirs = {}): Promise<string> {
  const home = await tempHome();
  const { config } = installedLayout(home, xdg);
  await mkdir(path.dirname(config), { recursive: true, mode: 0o700 });
  await writeFile(config, JSON.stringify({ server: edge.url, token }), { mode: 0o600 });
  return home;
}

const entries = async (dir: string) => (await readdir(dir)).sort();

/** A directory of links to these tools only, to be a whole PATH (a machine without curl, or Node). */
async function binWith(tools: string[]): Promise<string> {
  const bin = await mkdtemp(path.join(os.tmpdir(), "kai-bin-"));
  for (const tool of tools) {
    const found = [`/usr/bin/${tool}`, `/bin/${tool}`].find((candidate) => existsSync(candidate));
    if (!found) throw new Error(`${tool} is not installed here`);
    await symlink(tool === "node" ? process.execPath : found, path.join(bin, tool));
  }
  return bin;
}

/**
 * A real HTTP server standing where the edge would, for what the edge cannot be made to serve:
 * `files` by path, and /install.sh for its own origin.
 */
async function serveStandIn(
  files: Record<string, string | Buffer>,
): Promise<{ origin: string; close(): Promise<void> }> {
  let origin = "";
  const server = http.createServer((req, res) => {
    const body = req.url === "/install.sh" ? installScript(origin) : files[req.url ?? ""];
    res.writeHead(body === undefined ? 404 : 200).end(body ?? "not found");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { origin, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** Approves, through the API, the device code the installer printed; answers the new host's id. */
async function approvePrinted(installer: RunningInstaller, name: string): Promise<string> {
  const printed = () => installer.output().match(/\/device\?code=([A-Z]{4}-[A-Z]{4})/)?.[1];
  await until(async () => printed() !== undefined, 30_000, "the login code printed").catch((error: Error) => {
    throw new Error(`${error.message}; the installer printed:\n${installer.output()}`);
  });
  const approved = await request(edge.url, `/api/v1/device/codes/${printed()}/approval`, {
    token: session.token,
    body: { name },
  });
  expect(approved.status, JSON.stringify(approved.body)).toBe(201);
  return approved.body.host.id as string;
}

async function hostOnline(id: string): Promise<boolean> {
  const hosts = await request(edge.url, "/api/hosts", { token: session.token });
  return hosts.body.data.hosts.some((one: { id: string; online: boolean }) => one.id === id && one.online);
}

describe("GET /install.sh and the release beside it", () => {
  it("answers the script for this origin, never cached, and the manifest of the bundle it fetches", async () => {
    const script = await fetch(`${edge.url}/install.sh`);
    expect(script.status).toBe(200);
    expect(script.headers.get("content-type")).toBe("text/x-shellscript; charset=utf-8");
    expect(script.headers.get("cache-control")).toBe("no-cache");
    const text = await script.text();
    expect(text.startsWith("#!/bin/sh\n")).toBe(true);
    expect(text).toContain(`\nKAI_SERVER='${edge.url}'\n`);

    const served = await fetch(`${edge.url}/agent/kai-agent.json`);
    expect(served.status).toBe(200);
    expect(served.headers.get("cache-control")).toBe("no-cache");
    expect(await served.json()).toEqual(manifest);
    expect(manifest).toMatchObject({ version: AGENT_RELEASE, file: "kai-agent.mjs", node: ">=20.19" });
    const bundle = Buffer.from(await (await fetch(`${edge.url}/agent/kai-agent.mjs`)).arrayBuffer());
    expect({ size: bundle.length, sha256: sha256(bundle) }).toEqual({ size: manifest.size, sha256: manifest.sha256 });
  });
});

describe("install.sh", () => {
  it("installs into a logged-in home under dash, keeps the login, and the launcher it writes connects", async () => {
    const host = await enrollHost(session);
    const home = await loggedInHome(host.token);
    const layout = installedLayout(home);
    const configBefore = await readFile(layout.config, "utf8");

    const run = await runInstaller(edge.url, { home, args: ["--no-start"], shell: "dash" });
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`kai-agent ${manifest.version}: size and sha256 match the manifest`);
    expect(run.stdout).toContain(`already logged in to ${edge.url}`);
    // The test's PATH does not hold ~/.local/bin: the installer says how to add it.
    expect(run.stdout).toContain(`${path.join(home, ".local", "bin")} is not on your PATH`);

    const bundle = await readFile(layout.bundle);
    expect(sha256(bundle)).toBe(manifest.sha256);
    expect(await entries(path.dirname(layout.bundle))).toEqual(["kai-agent.mjs"]);
    expect(await readFile(layout.launcher, "utf8")).toContain(`\nexec '${process.execPath}' '${layout.bundle}' "$@"\n`);
    expect((await stat(layout.launcher)).mode & 0o777).toBe(0o755);
    expect(await readFile(layout.config, "utf8")).toBe(configBefore);

    const agent = spawn(layout.launcher, [], { env: { HOME: home, PATH: "/usr/bin:/bin" }, stdio: "pipe" });
    children.push(agent);
    let log = "";
    agent.stderr.on("data", (chunk: Buffer) => (log += chunk.toString()));
    agent.stdout.on("data", (chunk: Buffer) => (log += chunk.toString()));
    await until(() => hostOnline(host.id), 30_000, "the installed agent online").catch((error: Error) => {
      throw new Error(`${error.message}; the agent logged:\n${log}`);
    });
    const version = await request(edge.url, `/api/hosts/${host.id}/session`, { token: session.token });
    expect(version.body.data).toEqual({ connected: true, agentVersion: manifest.version });
    agent.kill("SIGTERM");
    await new Promise((resolve) => agent.once("exit", resolve));
  });

  it("without a service manager, starts the agent it installed in the foreground, and it connects", async () => {
    const host = await enrollHost(session);
    const home = await loggedInHome(host.token);
    // Only HOME and PATH: no session bus, so systemctl --user cannot answer, as on a server over ssh.
    const installer = startInstaller(edge.url, { home });
    installers.push(installer);
    await until(() => hostOnline(host.id), 30_000, "the agent the installer started online").catch((error: Error) => {
      throw new Error(`${error.message}; the installer printed:\n${installer.output()}`);
    });
    expect(installer.output()).toContain("no service manager for your user here");
    expect(installer.output()).toContain("to keep it running, run kai-agent service install");
    installer.kill();
    await installer.done;
  });

  it("in a fresh home, logs in by device code approved through the API, then the agent it starts connects", async () => {
    const home = await tempHome();
    const name = `installed-${path.basename(home)}`.replace(/[^A-Za-z0-9-]/g, "-");
    const installer = startInstaller(edge.url, { home, args: ["--name", name] });
    installers.push(installer);
    const hostId = await approvePrinted(installer, name);
    await until(() => hostOnline(hostId), 30_000, "the device-login agent online").catch((error: Error) => {
      throw new Error(`${error.message}; the installer printed:\n${installer.output()}`);
    });
    const { config } = installedLayout(home);
    expect((await stat(config)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(config, "utf8"))).toMatchObject({ server: edge.url });
    installer.kill();
    await installer.done;
  });

  it("re-runs under bash with XDG dirs as an upgrade in place: same files, login kept, no leftovers", async () => {
    const host = await enrollHost(session);
    const base = await tempHome();
    const xdg = { XDG_DATA_HOME: path.join(base, "data"), XDG_CONFIG_HOME: path.join(base, "config") };
    const home = await loggedInHome(host.token, xdg);
    const layout = installedLayout(home, xdg);
    const install = () => runInstaller(edge.url, { home, args: ["--no-start"], shell: "bash", xdg });
    expect((await install()).code).toBe(0);
    await writeFile(layout.bundle, "an older bundle");
    const again = await install();
    expect(again.stdout).toContain(`already logged in to ${edge.url} (${layout.config})`);
    expect(again.stderr).toBe("");
    expect(again.code).toBe(0);
    expect(sha256(await readFile(layout.bundle))).toBe(manifest.sha256);
    expect(await entries(path.dirname(layout.bundle))).toEqual(["kai-agent.mjs"]);
    expect(await entries(path.dirname(layout.launcher))).toEqual(["kai-agent"]);
    expect(JSON.parse(await readFile(layout.config, "utf8"))).toEqual({ server: edge.url, token: host.token });
  });

  it("re-run where the saved token was revoked, logs in afresh by device code instead of keeping it", async () => {
    const revoked = await enrollHost(session);
    expect(
      (await request(edge.url, `/api/hosts/${revoked.id}`, { method: "DELETE", token: session.token })).status,
    ).toBeLessThan(300);
    const home = await loggedInHome(revoked.token);
    const installer = startInstaller(edge.url, { home, args: ["--no-start"] });
    installers.push(installer);
    const hostId = await approvePrinted(installer, `relogged-${path.basename(home)}`);
    const run = await installer.done;
    expect(run.stdout).toContain(`${edge.url} refuses the token in ${installedLayout(home).config}`);
    expect(run.code).toBe(0);
    const saved = JSON.parse(await readFile(installedLayout(home).config, "utf8"));
    expect(saved.token).not.toBe(revoked.token);
    const whoami = await fetch(`${edge.url}/api/agent/whoami`, { headers: { authorization: `Bearer ${saved.token}` } });
    expect(((await whoami.json()) as { data: { hostId: string } }).data.hostId).toBe(hostId);
  });

  it("re-run with --name logs in afresh even when the saved token still works", async () => {
    const host = await enrollHost(session);
    const home = await loggedInHome(host.token);
    const name = `renamed-${path.basename(home)}`.replace(/[^A-Za-z0-9-]/g, "-");
    const installer = startInstaller(edge.url, { home, args: ["--no-start", "--name", name] });
    installers.push(installer);
    await approvePrinted(installer, name);
    const run = await installer.done;
    expect(run.stdout).not.toContain("already logged in");
    expect(run.code).toBe(0);
    expect(JSON.parse(await readFile(installedLayout(home).config, "utf8")).token).not.toBe(host.token);
  });

  it("honours KAI_CONFIG as kai-agent does: the login saved there is the one it finds and keeps", async () => {
    const host = await enrollHost(session);
    const home = await tempHome();
    const xdg = { KAI_CONFIG: path.join(home, "elsewhere", "kai.json") };
    await mkdir(path.dirname(xdg.KAI_CONFIG), { recursive: true });
    await writeFile(xdg.KAI_CONFIG, JSON.stringify({ server: edge.url, token: host.token }), { mode: 0o600 });
    const run = await runInstaller(edge.url, { home, args: ["--no-start"], xdg });
    expect(run.stderr).toBe("");
    expect(run.stdout).toContain(`already logged in to ${edge.url} (${xdg.KAI_CONFIG}) as host ${host.name}:`);
    expect(run.code).toBe(0);
    expect(existsSync(path.join(home, ".config"))).toBe(false);
  });

  it("downloads with wget where there is no curl", async () => {
    const host = await enrollHost(session);
    const home = await loggedInHome(host.token);
    const tools = ["wget", "dash", "mktemp", "rm", "sed", "grep", "head", "cp", "chmod", "mv", "mkdir", "node"];
    const run = await runInstaller(edge.url, {
      home,
      args: ["--no-start"],
      shell: "dash",
      fetcher: "wget",
      path: await binWith(tools),
    });
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(sha256(await readFile(installedLayout(home).bundle))).toBe(manifest.sha256);
  });

  it("refuses a Node older than the manifest's range: the version found, the one needed, where to get it", async () => {
    // Node 18 cannot be installed here (no internet): a `node` that only answers --version as
    // Node 18 does stands in for it. The installer must stop at that answer, so it runs nothing else.
    const fakeNodeDir = await mkdtemp(path.join(os.tmpdir(), "kai-node18-"));
    const fakeNode = path.join(fakeNodeDir, "node");
    await writeFile(fakeNode, '#!/bin/sh\ncase "$1" in --version | -v) echo v18.19.0 ;; *) exit 1 ;; esac\n');
    await chmod(fakeNode, 0o755);
    const home = await tempHome();

    const run = await runInstaller(edge.url, { home, pathPrefix: fakeNodeDir });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`kai-agent needs Node.js 20.19 or newer, and ${fakeNode} is 18.19.0`);
    expect(run.stderr).toContain("https://nodejs.org/en/download");
    expect(run.stderr).toContain("Nothing was installed");
    expect(await readdir(home)).toEqual([]);
  });

  it("refuses a bundle whose bytes do not match the manifest and installs nothing", async () => {
    // The real manifest next to the real bundle with one byte changed (same size, other sha256).
    const tampered = Buffer.from(await readFile(path.join(RELEASE_DIR, "kai-agent.mjs")));
    tampered[tampered.length - 2] = (tampered[tampered.length - 2] ?? 0) ^ 1;
    const standIn = await serveStandIn({
      "/agent/kai-agent.json": JSON.stringify(manifest),
      "/agent/kai-agent.mjs": tampered,
    });
    try {
      const home = await tempHome();
      const run = await runInstaller(standIn.origin, { home });
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`its sha256 is ${sha256(tampered)}, the manifest says ${manifest.sha256}`);
      expect(run.stderr).toContain("does not match its manifest (above), so nothing was installed");
      expect(await readdir(home)).toEqual([]);
    } finally {
      await standIn.close();
    }
  });

  it("says so when the server serves no release (its dashboard's index.html in the manifest's place)", async () => {
    const standIn = await serveStandIn({ "/agent/kai-agent.json": "<!doctype html><title>Kai</title>" });
    try {
      const home = await tempHome();
      const run = await runInstaller(standIn.origin, { home });
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`${standIn.origin}/agent/kai-agent.json is not a kai-agent release manifest`);
      expect(await readdir(home)).toEqual([]);
    } finally {
      await standIn.close();
    }
  });

  it("without Node on PATH, says which version to install and how, and installs nothing", async () => {
    // A PATH with what the script needs up to its Node check, and no node.
    const bin = await binWith(["curl", "dash", "mktemp", "rm", "sed", "grep", "head"]);
    const home = await tempHome();
    const run = await runInstaller(edge.url, { home, shell: "dash", path: bin });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("kai-agent needs Node.js 20.19 or newer, and there is no node on your PATH");
    expect(run.stderr).toContain("https://nodejs.org/en/download");
    expect(await readdir(home)).toEqual([]);
  });

  it("with --with-token and no terminal to paste at, says how to log in instead", async () => {
    const home = await tempHome();
    const run = await runInstaller(edge.url, { home, args: ["--with-token", "--no-start"] });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      `there is none here; run: ${installedLayout(home).launcher} login --server ${edge.url} --with-token < FILE`,
    );
    expect(existsSync(installedLayout(home).config)).toBe(false);
  });
});
