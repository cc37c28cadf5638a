import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { openspecHandlers } from "../../agent/handlers/openspec";
import { type WorkspaceWorld, call, kaiError, workspaceWorld, writeExecutable } from "../support/workspace-handlers";

/**
 * openspec.state on a real openspec/ tree. The OpenSpec CLI is not installed here: "present"
 * is a fake `openspec` on PATH that answers --version, "absent" a PATH without it.
 */

let world: WorkspaceWorld;
let project: string;
let fakeBin: string;
const originalPath = process.env.PATH;

async function write(file: string, text: string): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, text);
}

beforeAll(async () => {
  world = await workspaceWorld("openspec");
  project = path.join(world.root, "project");
  const spec = (name: string) => path.join(project, "openspec/specs", name, "spec.md");
  await write(spec("auth"), "# auth\n");
  await write(spec("billing"), "# billing\n");
  await fs.mkdir(path.join(project, "openspec/specs/no-spec-file"), { recursive: true });
  await write(path.join(project, "openspec/project.md"), "# project\n");
  const change = (name: string) => path.join(project, "openspec/changes", name);
  await write(path.join(change("add-login"), "proposal.md"), "# add login\n");
  await write(path.join(change("add-login"), "tasks.md"), "## 1. Build\n- [x] 1.1 form\n- [X] 1.2 api\n- [ ] 1.3 tests\n");
  await write(path.join(change("fix-typo"), "tasks.md"), "- [x] 1.1 fix\n- [x] 1.2 check\n");
  await write(path.join(change("idea"), "proposal.md"), "# only a proposal\n");
  await write(path.join(change("archive/2025-01-01-old-change"), "tasks.md"), "- [x] done\n");
  await write(path.join(change("archive/2025-02-01-older"), "proposal.md"), "x\n");
  // Things that lead out are not read: a spec folder and a tasks file symlinked outside.
  await write(path.join(world.outside, "elsewhere/spec.md"), "# not ours\n");
  await fs.symlink(path.join(world.outside, "elsewhere"), path.join(project, "openspec/specs/linked-out"));
  await write(path.join(world.outside, "tasks.md"), "- [ ] a\n- [ ] b\n");
  await fs.mkdir(change("sneaky"));
  await fs.symlink(path.join(world.outside, "tasks.md"), path.join(change("sneaky"), "tasks.md"));

  fakeBin = path.join(world.tmp, "bin");
  await writeExecutable(path.join(fakeBin, "openspec"), "#!/bin/sh\n[ \"$1\" = --version ] && echo 0.0.0-fake && exit 0\nexit 2\n");
});
afterEach(() => {
  process.env.PATH = originalPath;
});
afterAll(async () => {
  await world?.cleanup();
});

const state = (root: string) => call(openspecHandlers, "openspec.state", { root }, world.ctx());
const withCli = () => {
  process.env.PATH = `${fakeBin}${path.delimiter}${originalPath}`;
};

describe("openspec.state", () => {
  it("reads specs, active changes with task progress, and archived changes (CLI absent: no actions)", async () => {
    expect(await state(project)).toEqual({
      initialized: true,
      cliAvailable: false,
      specs: [
        { name: "auth", path: "openspec/specs/auth/spec.md" },
        { name: "billing", path: "openspec/specs/billing/spec.md" },
      ],
      changes: [
        { name: "add-login", tasks: { total: 3, done: 2 }, actions: [] },
        { name: "fix-typo", tasks: { total: 2, done: 2 }, actions: [] },
        { name: "idea", tasks: { total: 0, done: 0 }, actions: [] },
        { name: "sneaky", tasks: { total: 0, done: 0 }, actions: [] },
      ],
      archived: [{ name: "2025-01-01-old-change" }, { name: "2025-02-01-older" }],
      actions: [],
    });
  });

  it("offers the workflow actions when the CLI is on PATH; archive only for a change whose tasks are all done", async () => {
    withCli();
    const result = await state(project);
    expect(result.cliAvailable).toBe(true);
    expect(result.actions).toEqual(["list", "validate"]);
    expect(result.changes.map(({ name, actions }) => [name, actions])).toEqual([
      ["add-login", ["validate", "show"]],
      ["fix-typo", ["validate", "show", "archive"]],
      ["idea", ["validate", "show"]],
      ["sneaky", ["validate", "show"]],
    ]);
  });

  it("a workspace without openspec/ is not initialized; init is offered only with the CLI", async () => {
    const bare = path.join(world.root, "bare");
    await fs.mkdir(bare);
    const empty = { initialized: false, specs: [], changes: [], archived: [] };
    expect(await state(bare)).toEqual({ ...empty, cliAvailable: false, actions: [] });
    withCli();
    expect(await state(bare)).toEqual({ ...empty, cliAvailable: true, actions: ["init"] });
  });

  it("an openspec binary that fails --version does not count as installed", async () => {
    const broken = path.join(world.tmp, "broken-bin");
    await writeExecutable(path.join(broken, "openspec"), "#!/bin/sh\nexit 1\n");
    process.env.PATH = `${broken}${path.delimiter}${originalPath}`;
    expect((await state(project)).cliAvailable).toBe(false);
  });

  it("refuses an openspec/ that is a symlink leading out, and a workspace outside the roots", async () => {
    const linked = path.join(world.root, "linked");
    await fs.mkdir(linked);
    await fs.mkdir(path.join(world.outside, "openspec"));
    await fs.symlink(path.join(world.outside, "openspec"), path.join(linked, "openspec"));
    expect((await kaiError(state(linked))).code).toBe("PERMISSION_DENIED");
    expect((await kaiError(state(world.outside))).code).toBe("PERMISSION_DENIED");
  });
});
