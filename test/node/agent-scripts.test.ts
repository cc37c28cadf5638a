import { existsSync, readFileSync } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scriptHandlers } from "../../agent/handlers/scripts";
import { OUTPUT_CHUNK_BYTES } from "../../agent/runtime/process/run-process-group";
import type { ChunkOf } from "../../shared/command-replies";
import { until } from "../support/until";
import { call, kaiError, type WorkspaceWorld, workspaceWorld, writeExecutable } from "../support/workspace-handlers";

/** scripts.list and scripts.run on a real workspace with real processes. */

type Output = ChunkOf<"scripts.run">;

let world: WorkspaceWorld;
let root: string;

const PACKAGE_SCRIPTS = {
  hello: "echo one; echo two >&2; echo three",
  fails: "echo failing >&2; exit 3",
  slow: "sleep 30",
  // The child's pid goes to a file, so the test can check it is gone after the cancel.
  family: "sleep 30 & echo $! > child.pid; wait",
  stubborn: "trap '' TERM; sleep 30 & echo $! > stubborn.pid; wait",
  leaves: "sleep 30 > /dev/null 2>&1 & echo $! > leftover.pid",
  env: "env",
  tool: "local-tool",
  big: "node -e \"process.stdout.write('é'.repeat(100000) + 'end')\"",
  shadowed: "echo from package.json",
};

beforeAll(async () => {
  world = await workspaceWorld("scripts");
  root = world.root;
  await fs.writeFile(
    path.join(root, "package.json"),
    JSON.stringify({ name: "w", scripts: { ...PACKAGE_SCRIPTS, notText: 42 } }),
  );
  await writeExecutable(path.join(root, "node_modules/.bin/local-tool"), "#!/bin/sh\necho tool from node_modules\n");
  await writeExecutable(path.join(root, ".kai/scripts/deploy"), '#!/bin/sh\necho "deploy in $(pwd) args=$#"\n');
  await writeExecutable(path.join(root, ".kai/scripts/shadowed"), "#!/bin/sh\necho from .kai/scripts\n");
  await writeExecutable(path.join(root, ".kai/scripts/kai-env"), "#!/bin/sh\nenv\n");
  await fs.writeFile(path.join(root, ".kai/scripts/readme.txt"), "not executable", { mode: 0o644 });
  await writeExecutable(path.join(root, ".kai/scripts/.hidden"), "#!/bin/sh\necho hidden\n");
  await fs.mkdir(path.join(root, ".kai/scripts/a-folder"));
  // Executables outside the workspace, reached through symlinks: never listed.
  await writeExecutable(path.join(world.outside, "evil"), `#!/bin/sh\ntouch ${path.join(world.outside, "evil-ran")}\n`);
  await fs.symlink(path.join(world.outside, "evil"), path.join(root, ".kai/scripts/escape"));
  await fs.symlink("/bin/sh", path.join(root, ".kai/scripts/sh"));
  // A symlink that stays inside is fine.
  await fs.symlink("deploy", path.join(root, ".kai/scripts/deploy-link"));
}, 30_000);
afterAll(async () => {
  await world?.cleanup();
});

async function run(name: string, options: { timeoutSeconds?: number; signal?: AbortSignal } = {}) {
  const chunks: Output[] = [];
  const result = await call(
    scriptHandlers,
    "scripts.run",
    { root, name, timeoutSeconds: options.timeoutSeconds ?? 30 },
    world.ctx({ emit: (data) => chunks.push(data as Output), ...(options.signal ? { signal: options.signal } : {}) }),
  );
  const text = (stream: Output["stream"]) =>
    chunks
      .filter((chunk) => chunk.stream === stream)
      .map((chunk) => chunk.data)
      .join("");
  return { result, chunks, stdout: text("stdout"), stderr: text("stderr") };
}

/** Alive and not a zombie (a killed orphan may wait for a reaper that never comes in a container). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

async function pidFrom(file: string): Promise<number> {
  await until(
    async () => (await fs.readFile(path.join(root, file), "utf8").catch(() => "")).trim() !== "",
    5_000,
    file,
  );
  return Number((await fs.readFile(path.join(root, file), "utf8")).trim());
}

describe("scripts.list", () => {
  it("lists package.json scripts and the workspace's own executables, nothing that leads out", async () => {
    const { scripts } = await call(scriptHandlers, "scripts.list", { root }, world.ctx());
    const fromPackage = Object.entries(PACKAGE_SCRIPTS).filter(([name]) => name !== "shadowed");
    expect(scripts).toEqual([
      ...fromPackage.map(([name, command]) => ({ name, source: "package.json", command })),
      { name: "deploy", source: ".kai/scripts", command: ".kai/scripts/deploy" },
      { name: "deploy-link", source: ".kai/scripts", command: ".kai/scripts/deploy-link" },
      { name: "kai-env", source: ".kai/scripts", command: ".kai/scripts/kai-env" },
      // A .kai/scripts executable shadows the package.json script of the same name.
      { name: "shadowed", source: ".kai/scripts", command: ".kai/scripts/shadowed" },
    ]);
  });

  it("lists nothing from a .kai/scripts folder that is a symlink out, and copes with no package.json", async () => {
    const other = path.join(world.tmp, "other");
    await fs.mkdir(path.join(other, ".kai"), { recursive: true });
    await fs.symlink(path.join(world.outside), path.join(other, ".kai/scripts"));
    const { scripts } = await call(
      scriptHandlers,
      "scripts.list",
      { root: other },
      world.ctx({ policy: { ...world.policy, allowedRoots: [world.tmp] } }),
    );
    expect(scripts).toEqual([]);
  });

  it("names package.json when it is not valid JSON", async () => {
    const broken = path.join(root, "broken");
    await fs.mkdir(broken);
    await fs.writeFile(path.join(broken, "package.json"), "{ nope");
    const error = await kaiError(call(scriptHandlers, "scripts.list", { root: broken }, world.ctx()));
    expect(error.code).toBe("VALIDATION_ERROR");
    expect(error.message).toContain("package.json");
  });
});

describe("scripts.run", () => {
  it("streams output in order and returns the exit code", async () => {
    const { result, chunks, stdout, stderr } = await run("hello");
    expect(stdout).toBe("one\nthree\n");
    expect(stderr).toBe("two\n");
    expect(chunks.every((chunk) => chunk.data.length > 0)).toBe(true);
    expect(result).toMatchObject({ exitCode: 0, signal: null, timedOut: false, cancelled: false });
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
  });

  it("runs .kai/scripts executables directly, in the workspace root, with no arguments", async () => {
    expect((await run("deploy")).stdout).toBe(`deploy in ${root} args=0\n`);
    expect((await run("deploy-link")).stdout).toBe(`deploy in ${root} args=0\n`);
    expect((await run("shadowed")).stdout).toBe("from .kai/scripts\n");
  });

  it("puts node_modules/.bin on PATH for package.json scripts", async () => {
    expect((await run("tool")).stdout).toBe("tool from node_modules\n");
  });

  it("reports a nonzero exit", async () => {
    const { result, stderr } = await run("fails");
    expect(result).toMatchObject({ exitCode: 3, signal: null, timedOut: false, cancelled: false });
    expect(stderr).toBe("failing\n");
  });

  it("sends large output in chunks of at most 64 KiB without splitting characters", async () => {
    const { stdout, chunks, result } = await run("big");
    expect(result.exitCode).toBe(0);
    expect(stdout).toBe(`${"é".repeat(100_000)}end`);
    expect(chunks.length).toBeGreaterThan(1);
    for (const chunk of chunks) expect(Buffer.byteLength(chunk.data)).toBeLessThanOrEqual(OUTPUT_CHUNK_BYTES);
  });

  it("stops a script at its timeout", async () => {
    const started = Date.now();
    const { result } = await run("slow", { timeoutSeconds: 1 });
    expect(result).toMatchObject({ exitCode: null, signal: "SIGTERM", timedOut: true, cancelled: false });
    expect(Date.now() - started).toBeLessThan(4_000);
  });

  it("a cancel kills the whole process group, children included", async () => {
    const controller = new AbortController();
    const running = run("family", { signal: controller.signal });
    const child = await pidFrom("child.pid");
    expect(alive(child)).toBe(true);
    const cancelledAt = Date.now();
    controller.abort();
    const { result } = await running;
    expect(result).toMatchObject({ signal: "SIGTERM", timedOut: false, cancelled: true });
    // SIGTERM reached the child too: no wait for the SIGKILL, let alone for its sleep to end.
    expect(Date.now() - cancelledAt).toBeLessThan(1_500);
    await until(() => !alive(child), 1_000, "the background child to die");
  });

  it("SIGKILLs what ignores SIGTERM, 2 s later", async () => {
    const controller = new AbortController();
    const running = run("stubborn", { signal: controller.signal });
    const child = await pidFrom("stubborn.pid");
    const started = Date.now();
    controller.abort();
    const { result } = await running;
    expect(result).toMatchObject({ signal: "SIGKILL", cancelled: true });
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(1_900);
    expect(elapsed).toBeLessThan(4_000);
    await until(() => !alive(child), 1_000, "the stubborn child to die");
  });

  it("stops what a script left running when it exits by itself", async () => {
    const { result } = await run("leaves");
    expect(result).toMatchObject({ exitCode: 0, cancelled: false, timedOut: false });
    const leftover = await pidFrom("leftover.pid");
    await until(() => !alive(leftover), 1_000, "the leftover to be stopped");
  });

  it("refuses a name that is not listed, and runs nothing", async () => {
    const marker = path.join(world.tmp, "pwned");
    for (const name of [
      `; touch ${marker}`,
      `hello; touch ${marker}`,
      "../../bin/sh",
      "/bin/sh",
      "escape",
      "sh",
      "readme.txt",
      ".hidden",
      "a-folder",
      "notText",
      "__proto__",
      "constructor",
      "toString",
      "$(touch x)",
    ]) {
      const error = await kaiError(run(name));
      expect(error.code, name).toBe("NOT_FOUND");
    }
    expect(existsSync(marker)).toBe(false);
    expect(existsSync(path.join(root, "x"))).toBe(false);
    expect(existsSync(path.join(world.outside, "evil-ran"))).toBe(false);
  });

  it("never passes KAI_* variables (the agent token) to a script", async () => {
    process.env.KAI_TOKEN = "kai_agent_secret_token";
    process.env.KAI_SERVER = "https://kai.example";
    process.env.SCRIPTS_TEST_ORDINARY = "visible";
    try {
      for (const name of ["env", "kai-env"]) {
        const { stdout } = await run(name);
        expect(stdout).not.toContain("kai_agent_secret_token");
        expect(stdout).not.toMatch(/^KAI_/m);
        expect(stdout).toMatch(/^PATH=/m);
        expect(stdout).toMatch(/^SCRIPTS_TEST_ORDINARY=visible$/m);
      }
    } finally {
      delete process.env.KAI_TOKEN;
      delete process.env.KAI_SERVER;
      delete process.env.SCRIPTS_TEST_ORDINARY;
    }
  });

  it("a request cancelled before it starts runs nothing", async () => {
    const controller = new AbortController();
    controller.abort();
    const { result } = await run("hello", { signal: controller.signal });
    expect(result).toEqual({ exitCode: null, signal: null, timedOut: false, cancelled: true, durationMs: 0 });
  });
});
