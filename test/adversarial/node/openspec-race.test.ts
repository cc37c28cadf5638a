import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openspecHandlers } from "../../../agent/handlers/openspec";
import { KaiError } from "../../../shared/errors";
import { startSwapper } from "../../support/symlink-swapper";
import { until } from "../../support/until";
import { call, type WorkspaceWorld, workspaceWorld } from "../../support/workspace-handlers";

/**
 * The symlink race of issue 10, against openspec.state: a process that can write in the
 * workspace swaps `openspec/` and `openspec/changes/add-login/` for symlinks to folders
 * outside the allowed roots and back, as fast as it can, while openspec.state is called a
 * bounded number of times. What lies outside shows only through what the answer carries:
 * folder names (specs, changes, archived ones) and task counts. So the outside tree holds
 * names no inside folder has ("outside-only-…") and a tasks.md whose count (7 of 7) no
 * inside one has. Zero escapes: no answer holds either, and every refusal is a 4xx.
 */

const ROUNDS = 400;
/** On a loaded machine the rounds stop early after this long: the race is bounded in time too. */
const BUDGET_MS = 10_000;
const OUTSIDE_TASKS = 7;
const ALLOWED_CODES = new Set(["PERMISSION_DENIED", "NOT_FOUND", "CONFLICT"]);

let world: WorkspaceWorld;
let root: string;

async function write(file: string, text: string): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, text);
}

/** The same openspec/ layout inside and outside, but for names and counts only the outside one has. */
async function tree(base: string, outside: boolean): Promise<void> {
  const mark = outside ? "outside-only-" : "";
  await write(path.join(base, "specs", "auth", "spec.md"), "# auth\n");
  await write(path.join(base, "specs", `${mark}spec`, "spec.md"), "# spec\n");
  const tasks = outside
    ? Array.from({ length: OUTSIDE_TASKS }, (_, i) => `- [x] 1.${i} outside-only task\n`).join("")
    : "- [x] 1.1 form\n- [ ] 1.2 tests\n";
  await write(path.join(base, "changes", "add-login", "tasks.md"), tasks);
  await write(path.join(base, "changes", `${mark}change`, "proposal.md"), "# change\n");
  await write(path.join(base, "changes", "archive", `${mark}2025-01-01-old`, "tasks.md"), "- [x] done\n");
}

beforeAll(async () => {
  world = await workspaceWorld("openspec-race");
  root = world.root;
  await tree(path.join(root, "openspec"), false);
  await tree(path.join(world.outside, "openspec"), true);
});

afterAll(async () => {
  await world?.cleanup();
});

describe("openspec/ swapped for a symlink in a loop, while openspec.state reads it", () => {
  it("never answers a name or a task count from outside the roots", async () => {
    const stop = path.join(world.tmp, "stop-swapping");
    // One attacker, so no swap happens below a folder another swap has just moved (two
    // would move the outside folder in for real). The change's folder is swapped more often:
    // its tasks.md is the one file whose content (its count) shows in the answer.
    const change = path.join(root, "openspec", "changes", "add-login");
    const outsideChange = path.join(world.outside, "openspec", "changes", "add-login");
    const swapper = startSwapper(
      [
        [path.join(root, "openspec"), path.join(world.outside, "openspec")],
        ...Array.from({ length: 8 }, (): [string, string] => [change, outsideChange]),
      ],
      stop,
    );
    const exited = new Promise<number | null>((resolve) => swapper.child.on("exit", (code) => resolve(code)));
    const escapes: string[] = [];
    const unexpected: string[] = [];
    const outcomes: Record<string, number> = {};
    const ctx = world.ctx();
    let calls = 0;
    try {
      await until(() => swapper.output().includes("started"), 10_000, "the swapper to start");
      const started = Date.now();
      for (; calls < ROUNDS && Date.now() - started < BUDGET_MS; calls++) {
        try {
          const answer = await call(openspecHandlers, "openspec.state", { root }, ctx);
          outcomes[answer.initialized ? "ok" : "ok, not initialized"] =
            (outcomes[answer.initialized ? "ok" : "ok, not initialized"] ?? 0) + 1;
          const text = JSON.stringify(answer);
          // A name lists a folder outside; a count of 7 is the content of a file outside.
          if (text.includes("outside-only")) escapes.push(`names: ${text.slice(0, 400)}`);
          if (answer.changes.some((change) => change.tasks.total === OUTSIDE_TASKS))
            escapes.push(`tasks.md content: ${text.slice(0, 400)}`);
        } catch (error) {
          const code = error instanceof KaiError ? error.code : "not a KaiError";
          outcomes[code] = (outcomes[code] ?? 0) + 1;
          if (!ALLOWED_CODES.has(code))
            unexpected.push(`${code}: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
    } finally {
      await fs.writeFile(stop, "");
      if (
        (await Promise.race([exited, new Promise((resolve) => setTimeout(() => resolve("late"), 10_000))])) === "late"
      )
        swapper.child.kill("SIGKILL");
      await exited;
    }

    console.info(
      `openspec race: ${swapper.output().trim().split("\n").pop()}; ${calls} calls; outcomes ${JSON.stringify(outcomes)}`,
    );
    // The race was really run, and the tree really read while it ran.
    expect(Number(/swaps (\d+)/.exec(swapper.output())?.[1] ?? 0)).toBeGreaterThan(0);
    expect(outcomes.ok ?? 0).toBeGreaterThan(0);
    // Both trees are as they were: what was read inside is the inside tree.
    expect(await fs.readFile(path.join(change, "tasks.md"), "utf8")).not.toContain("outside-only");
    expect(await fs.readdir(path.join(world.outside, "openspec", "changes"))).toEqual([
      "add-login",
      "archive",
      "outside-only-change",
    ]);
    const count = (kind: string) => escapes.filter((escaped) => escaped.startsWith(kind)).length;
    expect({
      nameEscapes: count("names"),
      contentEscapes: count("tasks.md"),
      first: escapes.slice(0, 3),
      unexpected,
    }).toEqual({ nameEscapes: 0, contentEscapes: 0, first: [], unexpected: [] });
  }, 60_000);
});
