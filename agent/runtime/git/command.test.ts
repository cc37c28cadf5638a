import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runGit } from "./command";

/** Whether a process with this pid is still there (signal 0 only asks). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("runGit on the process runner", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "kai-git-run-"));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("a timeout stops git and what it started in the background (the whole process group)", async () => {
    const pidFile = path.join(dir, "child.pid");
    // A shell alias: git starts sh, which leaves a sleep running and waits for it.
    const alias = `alias.nap=!sleep 30 & echo $! > '${pidFile}'; wait`;
    const started = Date.now();
    const run = await runGit(dir, ["-c", alias, "nap"], { timeoutMs: 500 });
    expect(run.timedOut).toBe(true);
    expect(run.code).toBeNull();
    expect(Date.now() - started).toBeLessThan(10_000);
    const pid = Number((await readFile(pidFile, "utf8")).trim());
    expect(pid).toBeGreaterThan(0);
    await expect.poll(() => alive(pid), { timeout: 5_000 }).toBe(false);
  });

  it("a cancel rejects with the signal's reason", async () => {
    const controller = new AbortController();
    const running = runGit(dir, ["-c", "alias.nap=!sleep 30", "nap"], { signal: controller.signal });
    setTimeout(() => controller.abort(new Error("cancelled by the test")), 200);
    await expect(running).rejects.toThrow("cancelled by the test");
  });
});
