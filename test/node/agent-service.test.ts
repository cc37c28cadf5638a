import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import tls from "node:tls";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { systemdUnit } from "../../agent/service/systemd-unit";
import { buildAgentBundle } from "../../scripts/agent-bundle";
import { ROOT } from "../support/edge-server";
import { runAgent } from "../support/run-agent";
import { setupOrFail } from "../support/setup-or-fail";
import { until } from "../support/until";
import { startUserManager, type UserManager } from "../support/user-manager";

/**
 * `kai-agent service`: the unit it writes passes systemd's own checker; where no user manager
 * can be reached nothing is written; and against a real `systemd --user` it installs, runs,
 * reports and removes the service.
 */

const exec = promisify(execFile);
let dir: string;
/** A built bundle in a directory whose name needs systemd's quoting: a space, `%` and `$`. */
let bundle: string;

const setup = setupOrFail(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "kai-service-"));
  bundle = path.join(dir, "kai dir %h $HOME", "kai-agent.mjs");
  await buildAgentBundle(bundle);
});
afterAll(async () => {
  if (setup.ready) await rm(dir, { recursive: true, force: true });
});

/** A home with a 0600 config holding a server and a token, as kai-agent login leaves it. */
async function homeWithConfig(name: string): Promise<{ home: string; config: string; unit: string }> {
  const home = path.join(dir, name);
  const config = path.join(home, ".config", "kai", "agent.json");
  await mkdir(path.dirname(config), { recursive: true });
  await writeFile(config, JSON.stringify({ server: "http://127.0.0.1:9", token: "kai_agent_servicetest" }), {
    mode: 0o600,
  });
  return { home, config, unit: path.join(home, ".config", "systemd", "user", "kai-agent.service") };
}

/** The shell's environment for `home`, minus anything that would point at another config or manager. */
function envFor(home: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const { XDG_CONFIG_HOME: _c, KAI_CONFIG: _k, KAI_SERVER: _s, DBUS_SESSION_BUS_ADDRESS: _d, ...env } = process.env;
  return { ...env, HOME: home, ...extra };
}

describe("the systemd unit", () => {
  it("passes systemd-analyze verify with the real node, a real bundle and paths that need quoting", async () => {
    const runtime = await mkdtemp(path.join(dir, "runtime-"));
    const unitDir = await mkdtemp(path.join(dir, "unit-"));
    const file = path.join(unitDir, "kai-agent.service");
    const config = path.join(dir, "a config %i", "agent.json");
    await writeFile(
      file,
      systemdUnit({ node: process.execPath, bundle, config, environment: { XDG_CONFIG_HOME: "/tmp/x y%" } }),
    );
    // verify exits 0 on unknown keys and bad values too, and only warns: its output must be empty.
    const { stdout, stderr } = await exec("systemd-analyze", ["--user", "verify", file], {
      env: { ...process.env, XDG_RUNTIME_DIR: runtime },
    });
    expect(`${stdout}${stderr}`).toBe("");

    // And it catches what it should: a Node that is not there.
    await writeFile(file, systemdUnit({ node: "/nonexistent/node", bundle, config, environment: {} }));
    const broken = await exec("systemd-analyze", ["--user", "verify", file], {
      env: { ...process.env, XDG_RUNTIME_DIR: runtime },
    }).catch((error: { stderr: string }) => error);
    expect(broken.stderr).toContain("/nonexistent/node");
  });
});

describe("kai-agent service without a user manager", () => {
  it("writes nothing, exits 1 and says why and what to do", async () => {
    const { home, unit } = await homeWithConfig("no-manager");
    // An empty runtime directory: no manager's socket in it, on any machine.
    const env = envFor(home, { XDG_RUNTIME_DIR: await mkdtemp(path.join(dir, "empty-runtime-")) });

    const install = await runAgent([bundle], ["service", "install"], env);
    expect(install.code).toBe(1);
    expect(install.stderr).toContain("systemd's user manager cannot be reached");
    expect(install.stderr).toContain("enable-linger");
    expect(install.stderr).toContain(`run kai-agent under your own supervisor: ${process.execPath}`);
    expect(install.stderr).toContain("Nothing was written.");
    expect(existsSync(path.dirname(unit))).toBe(false);

    const status = await runAgent([bundle], ["service", "status"], env);
    expect(status.code).toBe(1);
    expect(status.stdout).toContain(`${unit} (not installed)`);
    expect(status.stdout).toContain("journalctl --user -u kai-agent -f");
    expect(status.stdout).toContain("cannot be reached");

    const uninstall = await runAgent([bundle], ["service", "uninstall"], env);
    expect(uninstall.code).toBe(0);
    expect(uninstall.stdout).toContain("not installed");
  });

  it("refuses to make a service of a source checkout, or of a config it could not start with", async () => {
    const { home } = await homeWithConfig("refusals");
    const env = envFor(home);
    const fromSources = await runAgent(
      ["--import", "tsx", path.join(ROOT, "agent/cli.ts")],
      ["service", "install"],
      env,
    );
    expect(fromSources.code).toBe(2);
    expect(fromSources.stderr).toContain("runs from a source checkout");
    expect(fromSources.stderr).toContain("--bundle");

    const empty = path.join(dir, "no-config-home");
    const noLogin = await runAgent([bundle], ["service", "install"], envFor(empty));
    expect(noLogin.code).toBe(2);
    expect(noLogin.stderr).toContain("the service would not start");
    expect(noLogin.stderr).toContain("kai-agent login --server URL");
    expect(existsSync(path.join(empty, ".config", "systemd"))).toBe(false);

    // The agent would refuse an engine on another machine at every start.
    const remote = await runAgent([bundle], ["service", "install"], {
      ...env,
      DOCKER_HOST: "ssh://dev:secret@build-box",
    });
    expect(remote.code).toBe(2);
    expect(remote.stderr).toContain(
      "the service would not start: DOCKER_HOST=ssh://dev@build-box is an engine on another machine",
    );
    expect(remote.stderr).not.toContain("secret");
    expect(existsSync(path.join(home, ".config", "systemd"))).toBe(false);

    const usage = await runAgent([bundle], ["service", "restart"], env);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("say install, uninstall or status");
  });
});

describe("kai-agent service under a real systemd user manager", () => {
  let manager: UserManager | undefined;
  afterAll(async () => manager?.stop());

  it("installs, runs and reports the unit, and uninstalls it; each step again is harmless", async () => {
    const { home, unit, config } = await homeWithConfig("with-manager");
    manager = await startUserManager(home);
    // A private CA (relative, as typed in a shell) and a PATH with nvm-style folders needing quoting.
    const caFile = path.join(home, "ca.pem");
    await writeFile(caFile, tls.rootCertificates[0] ?? "");
    const servicePath = `${path.join(home, ".nvm", "v22 %h $HOME", "bin")}:${process.env.PATH}`;
    const env = envFor(home, { ...manager.env, NODE_EXTRA_CA_CERTS: path.relative(process.cwd(), caFile) });
    env.PATH = servicePath;

    const install = await runAgent([bundle], ["service", "install"], env);
    expect(install.stderr).toBe("");
    expect(install.code).toBe(0);
    expect(install.stdout).toContain(`installed ${unit}`);
    expect(install.stdout).toContain("enable-linger");
    expect(await readFile(unit, "utf8")).toContain(
      `ExecStart="${process.execPath}" "${bundle.replace("%", "%%").replace("$", () => "$$")}"`,
    );

    // The manager runs exactly that command: the quoting came back to the same words.
    await until(async () => (await manager?.show("kai-agent.service"))?.ActiveState === "active", 20_000, "active");
    const shown = await manager.show("kai-agent.service");
    expect(shown.UnitFileState).toBe("enabled");
    const cmdline = (await readFile(`/proc/${shown.MainPID}/cmdline`, "utf8")).split("\0").filter(Boolean);
    expect(cmdline).toEqual([process.execPath, bundle, "--config", config]);
    // The service runs with this shell's CA file (made absolute) and PATH, quoted back to the same words.
    const environ = (await readFile(`/proc/${shown.MainPID}/environ`, "utf8")).split("\0");
    expect(environ).toContain(`NODE_EXTRA_CA_CERTS=${caFile}`);
    expect(environ).toContain(`PATH=${servicePath}`);

    const status = await runAgent([bundle], ["service", "status"], env);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(`${unit} (installed)`);
    expect(status.stdout).toContain(`active (running), enabled, pid ${shown.MainPID}`);
    expect(status.stdout).toContain("journalctl --user -u kai-agent -f");

    const again = await runAgent([bundle], ["service", "install"], env);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`updated ${unit}`);

    const uninstall = await runAgent([bundle], ["service", "uninstall"], env);
    expect(uninstall.code).toBe(0);
    expect(uninstall.stdout).toContain(`stopped and disabled kai-agent.service, removed ${unit}`);
    expect(existsSync(unit)).toBe(false);
    expect((await manager.show("kai-agent.service")).ActiveState).toBe("inactive");

    const twice = await runAgent([bundle], ["service", "uninstall"], env);
    expect(twice.code).toBe(0);
    expect(twice.stdout).toContain("nothing to do");
    const after = await runAgent([bundle], ["service", "status"], env);
    expect(after.code).toBe(1);
    expect(after.stdout).toContain("(not installed)");
  });
});
