import { existsSync } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { openspecHandlers } from "../../../agent/handlers/openspec";
import { scriptHandlers } from "../../../agent/handlers/scripts";
import { loadPolicy, type Policy } from "../../../agent/policy";
import { call, kaiError, type WorkspaceWorld, workspaceWorld, writeExecutable } from "../../support/workspace-handlers";

/**
 * Issue 10, point 12: scripts ran outside the local policy, and the policy could not turn
 * them off. Now `"scripts": false` in the policy file refuses scripts.list and scripts.run
 * with PERMISSION_DENIED naming the switch, and nothing runs. Also: a process the agent
 * starts for a workspace never finds a workspace file through a relative PATH entry.
 */

let world: WorkspaceWorld;
let root: string;
let marker: string;

beforeAll(async () => {
  world = await workspaceWorld("scripts-policy");
  root = world.root;
  marker = path.join(world.outside, "script-ran");
  await fs.writeFile(
    path.join(root, "package.json"),
    JSON.stringify({ name: "w", scripts: { touch: `touch ${marker}` } }),
  );
  await writeExecutable(path.join(root, ".kai/scripts/touch-too"), `#!/bin/sh\ntouch ${marker}\n`);
}, 30_000);

afterAll(async () => {
  await world?.cleanup();
});

async function policyFrom(json: unknown): Promise<Policy> {
  const file = path.join(world.tmp, `policy-${Math.random().toString(36).slice(2)}.json`);
  await fs.writeFile(file, JSON.stringify(json));
  return loadPolicy(file);
}

describe('"scripts": false in the policy file', () => {
  it.each(["touch", "touch-too"])(
    "refuses scripts.run %s with PERMISSION_DENIED naming the switch, and runs nothing",
    async (name) => {
      const policy = await policyFrom({ allowedRoots: [root], scripts: false });
      const error = await kaiError(
        call(scriptHandlers, "scripts.run", { root, name, timeoutSeconds: 10 }, world.ctx({ policy })),
      );
      expect(error.code).toBe("PERMISSION_DENIED");
      expect(error.message).toContain('"scripts": false');
      expect(error.message).toContain("policy");
      expect(existsSync(marker)).toBe(false);
    },
  );

  it("refuses scripts.list the same way (an empty list would claim the workspace has none)", async () => {
    const policy = await policyFrom({ allowedRoots: [root], scripts: false });
    const error = await kaiError(call(scriptHandlers, "scripts.list", { root }, world.ctx({ policy })));
    expect(error.code).toBe("PERMISSION_DENIED");
    expect(error.message).toContain('"scripts": false');
  });

  it("leaves scripts on when the file does not say false (existing hosts keep working)", async () => {
    const policy = await policyFrom({ allowedRoots: [root] });
    expect(
      (await call(scriptHandlers, "scripts.list", { root }, world.ctx({ policy }))).scripts.map(
        (script) => script.name,
      ),
    ).toContain("touch");
    const result = await call(
      scriptHandlers,
      "scripts.run",
      { root, name: "touch", timeoutSeconds: 10 },
      world.ctx({ policy }),
    );
    expect(result.exitCode).toBe(0);
    expect(existsSync(marker)).toBe(true);
    await fs.rm(marker);
  });
});

describe('"scripts": false and the OpenSpec CLI', () => {
  const originalPath = process.env.PATH;
  afterEach(() => {
    process.env.PATH = originalPath;
  });

  /** An `openspec` on the agent's PATH (outside the workspace) that records each run. */
  async function installCli(): Promise<string> {
    const bin = path.join(world.tmp, "bin");
    const ran = path.join(world.outside, "openspec-ran");
    await writeExecutable(path.join(bin, "openspec"), `#!/bin/sh\n[ "$1" = --version ] && exit 0\ntouch ${ran}\n`);
    process.env.PATH = `${bin}${path.delimiter}${originalPath}`;
    return ran;
  }

  it("refuses openspec.run (the CLI follows the workspace's symlinks) and offers no action, while state still reads", async () => {
    const ran = await installCli();
    const policy = await policyFrom({ allowedRoots: [root], scripts: false });
    const state = await call(openspecHandlers, "openspec.state", { root }, world.ctx({ policy }));
    expect(state).toMatchObject({ cliAvailable: true, actions: [] });
    const error = await kaiError(
      call(openspecHandlers, "openspec.run", { root, action: "init" }, world.ctx({ policy })),
    );
    expect(error.code).toBe("PERMISSION_DENIED");
    expect(error.message).toContain('"scripts": false');
    expect(existsSync(ran)).toBe(false);
  });

  it("runs it when the policy allows scripts", async () => {
    const ran = await installCli();
    const policy = await policyFrom({ allowedRoots: [root] });
    expect((await call(openspecHandlers, "openspec.state", { root }, world.ctx({ policy }))).actions).toEqual(["init"]);
    expect(
      (await call(openspecHandlers, "openspec.run", { root, action: "init" }, world.ctx({ policy }))).exitCode,
    ).toBe(0);
    expect(existsSync(ran)).toBe(true);
    await fs.rm(ran);
  });
});

describe("a program looked up on PATH never comes from the workspace", () => {
  const originalPath = process.env.PATH;
  afterEach(() => {
    process.env.PATH = originalPath;
  });

  it("ignores the empty PATH entry (the working directory) when looking for the OpenSpec CLI", async () => {
    // The OpenSpec CLI is not installed here; a workspace file of that name must not stand in.
    const planted = path.join(world.outside, "fake-openspec-ran");
    await writeExecutable(path.join(root, "openspec"), `#!/bin/sh\ntouch ${planted}\n`);
    process.env.PATH = `${path.delimiter}${originalPath}`;
    const state = await call(openspecHandlers, "openspec.state", { root }, world.ctx());
    expect(state.cliAvailable).toBe(false);
    expect(existsSync(planted)).toBe(false);
    await fs.rm(path.join(root, "openspec"));
  });
});
