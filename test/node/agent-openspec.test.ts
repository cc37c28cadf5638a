import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { openspecHandlers } from "../../agent/handlers/openspec";
import { COMMANDS, type ParamsOf } from "../../shared/commands";
import { call, kaiError, type WorkspaceWorld, workspaceWorld, writeExecutable } from "../support/workspace-handlers";

/**
 * openspec.state and openspec.run on a real openspec/ tree. The OpenSpec CLI is not installed
 * here: "present" is a fake `openspec` on PATH that answers --version and otherwise logs each
 * run and prints its working directory, arguments and what it sees of the environment;
 * "absent" a PATH without it.
 */

let world: WorkspaceWorld;
let project: string;
let fakeBin: string;
/** Every run of the fake CLI other than --version appends its arguments here. */
let runLog: string;
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
  await write(
    path.join(change("add-login"), "tasks.md"),
    "## 1. Build\n- [x] 1.1 form\n- [X] 1.2 api\n- [ ] 1.3 tests\n",
  );
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
  runLog = path.join(world.tmp, "openspec-runs.log");
  await writeExecutable(
    path.join(fakeBin, "openspec"),
    [
      "#!/bin/sh",
      '[ "$1" = --version ] && echo 0.0.0-fake && exit 0',
      `echo "$*" >> '${runLog}'`,
      'echo "cwd=$(pwd -P)"',
      'for arg in "$@"; do echo "arg=$arg"; done',
      'echo "kai_token=${KAI_TOKEN:-unset} interactive=${OPEN_SPEC_INTERACTIVE:-unset}"',
      'for last in "$@"; do :; done',
      // Like the real CLI on a change without deltas: a report on stderr and exit 1.
      'if [ "$1" = validate ] && [ "$last" = idea ]; then echo "Change \'idea\' has issues" >&2; exit 1; fi',
      'if [ "$1" = list ] && [ -n "$FAKE_BIG_OUTPUT" ]; then head -c 300000 /dev/zero | tr "\\0" x; echo; echo END; fi',
      "exit 0",
      "",
    ].join("\n"),
  );
});
afterEach(() => {
  process.env.PATH = originalPath;
  delete process.env.KAI_TOKEN;
  delete process.env.FAKE_BIG_OUTPUT;
});
afterAll(async () => {
  await world?.cleanup();
});

const state = (root: string) => call(openspecHandlers, "openspec.state", { root }, world.ctx());
const runAction = (root: string, action: ParamsOf<"openspec.run">["action"], change?: string) =>
  call(openspecHandlers, "openspec.run", { root, action, ...(change === undefined ? {} : { change }) }, world.ctx());
const runs = async () => (await fs.readFile(runLog, "utf8").catch(() => "")).split("\n").filter(Boolean);
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

describe("openspec.run", () => {
  it("runs an offered workspace action in the workspace root, without KAI_* in its environment", async () => {
    withCli();
    process.env.KAI_TOKEN = "host-secret";
    const result = await runAction(project, "list");
    expect(result).toEqual({
      action: "list",
      change: null,
      exitCode: 0,
      timedOut: false,
      output: `cwd=${project}\narg=list\nkai_token=unset interactive=0\n`,
    });
  });

  it("passes the change after `--` and the CLI's non-interactive options", async () => {
    withCli();
    const argsOf = async (action: ParamsOf<"openspec.run">["action"], change?: string) =>
      (await runAction(project, action, change)).output
        .split("\n")
        .filter((line) => line.startsWith("arg="))
        .map((line) => line.slice(4));
    expect(await argsOf("validate")).toEqual(["validate", "--all", "--no-interactive"]);
    expect(await argsOf("validate", "add-login")).toEqual([
      "validate",
      "--type",
      "change",
      "--no-interactive",
      "--",
      "add-login",
    ]);
    expect(await argsOf("show", "add-login")).toEqual([
      "show",
      "--type",
      "change",
      "--no-interactive",
      "--",
      "add-login",
    ]);
    expect(await argsOf("archive", "fix-typo")).toEqual(["archive", "--yes", "--", "fix-typo"]);
    const bare = path.join(world.root, "to-init");
    await fs.mkdir(bare);
    const init = await runAction(bare, "init");
    expect(init.output).toContain(`cwd=${bare}\narg=init\narg=--tools\narg=none\n`);
  });

  it("returns a nonzero exit with the CLI's output rather than failing", async () => {
    withCli();
    const result = await runAction(project, "validate", "idea");
    expect(result.exitCode).toBe(1);
    expect(result.timedOut).toBe(false);
    expect(result.output).toContain("Change 'idea' has issues");
  });

  it("refuses what is not offered, and runs nothing", async () => {
    withCli();
    const before = await runs();
    const archive = await kaiError(runAction(project, "archive", "add-login"));
    expect(archive.code).toBe("CONFLICT");
    expect(archive.message).toContain("offered: validate, show");
    const init = await kaiError(runAction(project, "init"));
    expect(init.code).toBe("CONFLICT");
    expect(init.message).toContain("offered: list, validate");
    expect((await kaiError(runAction(project, "show"))).code).toBe("CONFLICT");
    expect((await kaiError(runAction(project, "list", "add-login"))).code).toBe("CONFLICT");
    expect((await kaiError(runAction(project, "show", "2025-01-01-old-change"))).code).toBe("NOT_FOUND");
    expect((await kaiError(runAction(project, "show", "no-such-change"))).code).toBe("NOT_FOUND");
    expect(await runs()).toEqual(before);
  });

  it("refuses every action when the CLI is not installed", async () => {
    const before = await runs();
    const error = await kaiError(runAction(project, "list"));
    expect(error.code).toBe("CONFLICT");
    expect(error.message).toContain("the OpenSpec CLI is not installed on this host");
    expect(await runs()).toEqual(before);
  });

  it("never takes an option-like or path-like change name", () => {
    const params = COMMANDS["openspec.run"].params;
    for (const change of ["--help", "-y", "../x", "a/b", ".hidden", ""]) {
      expect(params.safeParse({ root: project, action: "show", change }).success, change).toBe(false);
    }
    expect(params.safeParse({ root: project, action: "rm" }).success).toBe(false);
    expect(params.safeParse({ root: project, action: "list", extra: true }).success).toBe(false);
  });

  it("keeps only the tail of a long output", async () => {
    withCli();
    process.env.FAKE_BIG_OUTPUT = "1";
    const result = await runAction(project, "list");
    expect(Buffer.byteLength(result.output)).toBe(256 * 1024);
    expect(result.output.endsWith("x\nEND\n")).toBe(true);
  });
});
