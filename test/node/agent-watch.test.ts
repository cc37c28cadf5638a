import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { watchHandlers } from "../../agent/handlers/workspace-watch";
import type { ChunkOf } from "../../shared/command-replies";
import { until } from "../support/until";
import { call, kaiError, type WorkspaceWorld, workspaceWorld } from "../support/workspace-handlers";

/** workspace.watch with a real watcher on a real directory. */

type Event = ChunkOf<"workspace.watch">;
type FileEvent = Extract<Event, { type: "file_changed" }>;

let world: WorkspaceWorld;
let n = 0;

beforeAll(async () => {
  world = await workspaceWorld("watch");
});
afterAll(async () => {
  await world?.cleanup();
});

/** Starts watching a fresh workspace and waits for the first stats event, which says the watcher is ready. */
async function watching(setup?: (root: string) => Promise<void>, statsIntervalMs = 250) {
  const root = path.join(world.root, `w${n++}`);
  await fs.mkdir(root);
  await setup?.(root);
  const events: Event[] = [];
  const controller = new AbortController();
  const done = call(
    watchHandlers,
    "workspace.watch",
    { root, statsIntervalMs },
    world.ctx({ signal: controller.signal, emit: (data) => events.push(data as Event) }),
  );
  await until(() => events.some((event) => event.type === "system_stats"), 5_000, "the first stats event");
  const files = () =>
    events
      .filter((event): event is FileEvent => event.type === "file_changed")
      .map(({ path, event_type }) => [path, event_type]);
  return { root, events, files, controller, done };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("workspace.watch", () => {
  it("reports a file created, modified and deleted, each within a second", async () => {
    const { root, files, controller, done } = await watching();
    const file = path.join(root, "src", "a.txt");
    await fs.mkdir(path.dirname(file));
    await until(() => files().length >= 1, 1_000, "the folder");
    await fs.writeFile(file, "one");
    await until(() => files().length >= 2, 1_000, "created");
    await sleep(300);
    await fs.appendFile(file, " two");
    await until(() => files().length >= 3, 1_000, "modified");
    await sleep(300);
    await fs.rm(file);
    await until(() => files().length >= 4, 1_000, "deleted");
    controller.abort();
    expect(await done).toEqual({ ended: "cancelled" });
    expect(files()).toEqual([
      ["src", "created"],
      ["src/a.txt", "created"],
      ["src/a.txt", "modified"],
      ["src/a.txt", "deleted"],
    ]);
  });

  it("ignores .git internals and node_modules, nested ones too", async () => {
    const { root, files, controller, done } = await watching(async (dir) => {
      await fs.mkdir(path.join(dir, ".git/objects"), { recursive: true });
      await fs.mkdir(path.join(dir, "node_modules/pkg"), { recursive: true });
      await fs.mkdir(path.join(dir, "vendor/lib/.git"), { recursive: true });
    });
    await fs.writeFile(path.join(root, ".git/index"), "x");
    await fs.writeFile(path.join(root, ".git/objects/ab"), "x");
    await fs.writeFile(path.join(root, "node_modules/pkg/index.js"), "x");
    await fs.writeFile(path.join(root, "vendor/lib/.git/HEAD"), "x");
    await fs.writeFile(path.join(root, ".gitignore"), "node_modules\n");
    await until(() => files().length >= 1, 1_000, ".gitignore");
    await sleep(400);
    controller.abort();
    await done;
    expect(files()).toEqual([[".gitignore", "created"]]);
  });

  it("coalesces a burst: many writes are one created, a file that came and went is nothing", async () => {
    const { root, files, controller, done } = await watching();
    const file = path.join(root, "burst.txt");
    await fs.writeFile(file, "0");
    for (let i = 1; i < 10; i++) await fs.appendFile(file, String(i));
    const temp = path.join(root, "temp.txt");
    await fs.writeFile(temp, "short-lived");
    await fs.rm(temp);
    await until(() => files().length >= 1, 1_000, "the burst");
    await sleep(400);
    controller.abort();
    await done;
    expect(files()).toEqual([["burst.txt", "created"]]);
  });

  it("reports an atomic save (temp file renamed over the target) as one modification", async () => {
    const { root, files, controller, done } = await watching(async (dir) =>
      fs.writeFile(path.join(dir, "settings.json"), "{}"),
    );
    await fs.writeFile(path.join(root, ".settings.json.tmp"), '{"a":1}');
    await fs.rename(path.join(root, ".settings.json.tmp"), path.join(root, "settings.json"));
    await until(() => files().length >= 1, 1_000, "the save");
    await sleep(400);
    controller.abort();
    await done;
    expect(files()).toEqual([["settings.json", "modified"]]);
  });

  it("sends system stats every interval, as percentages", async () => {
    const { events, controller, done } = await watching(undefined, 250);
    await until(() => events.filter((event) => event.type === "system_stats").length >= 3, 2_000, "three stats events");
    controller.abort();
    await done;
    for (const event of events) {
      if (event.type !== "system_stats") continue;
      for (const value of Object.values(event.stats)) {
        expect(value).toBeGreaterThanOrEqual(0);
        expect(value).toBeLessThanOrEqual(100);
      }
      expect(event.stats.memory_percent).toBeGreaterThan(0);
      expect(event.stats.disk_percent).toBeGreaterThan(0);
    }
  });

  it("stops everything on cancel: no event after it", async () => {
    const { root, events, controller, done } = await watching();
    await fs.writeFile(path.join(root, "pending.txt"), "x");
    // Cancelled while the change is still being debounced: it is dropped with the rest.
    controller.abort();
    expect(await done).toEqual({ ended: "cancelled" });
    const count = events.length;
    await fs.writeFile(path.join(root, "after.txt"), "x");
    await sleep(600);
    expect(events.length).toBe(count);
    expect(events.some((event) => event.type === "file_changed" && event.path === "after.txt")).toBe(false);
  });

  it("a request cancelled before the watcher is ready ends at once; a root outside the policy is refused", async () => {
    const root = path.join(world.root, `w${n++}`);
    await fs.mkdir(root);
    const controller = new AbortController();
    const done = call(
      watchHandlers,
      "workspace.watch",
      { root, statsIntervalMs: 250 },
      world.ctx({ signal: controller.signal }),
    );
    controller.abort();
    expect(await done).toEqual({ ended: "cancelled" });
    expect(
      (
        await kaiError(
          call(watchHandlers, "workspace.watch", { root: world.outside, statsIntervalMs: 250 }, world.ctx()),
        )
      ).code,
    ).toBe("PERMISSION_DENIED");
  });
});
