import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { FSWatcher } from "chokidar";
import type { ChunkOf } from "../../shared/command-replies";
import { ChangeCoalescer, type ChangeType } from "../runtime/fs/change-coalescer";
import { workspaceRoot } from "../runtime/fs/workspace-paths";
import { lazy } from "../runtime/lazy";
import { cpuPercent, cpuTimes, diskPercent, memoryPercent } from "../runtime/process/host-usage";
import type { Handler, Handlers } from "./types";

const loadChokidar = lazy(() => import("chokidar"));

type WorkspaceEvent = ChunkOf<"workspace.watch">;

/** Wait after a path's last event before reporting it, and the most a busy path waits. */
const DEBOUNCE_MS = 150;
const MAX_WAIT_MS = 1_000;
const FIRST_STATS_MS = 200;

/** Directory names never watched, wherever they appear: git internals and installed packages. */
const IGNORED_NAMES = new Set([".git", "node_modules"]);

const EVENT_TYPES: Partial<Record<string, ChangeType>> = {
  add: "created",
  addDir: "created",
  change: "modified",
  unlink: "deleted",
  unlinkDir: "deleted",
};

/**
 * `workspace.watch`: file changes under the workspace (relative paths, forward slashes,
 * debounced and coalesced per path) and, every `statsIntervalMs`, the host's CPU, memory
 * and disk use, until the edge cancels.
 *
 * chokidar rather than `fs.watch(recursive)`: its `ignored` prunes `.git` and
 * `node_modules` before descending, so a large dependency tree costs no inotify watches
 * (Node's recursive watch on Linux watches every directory, and can exhaust the limit);
 * it tells created from deleted (fs.watch only says "rename"); it follows new
 * subdirectories; and it folds an editor's delete-and-rename save into one change.
 * Symlinks are not followed, so nothing outside the workspace is watched.
 *
 * The first `system_stats` is sent as soon as the watcher is ready (at least
 * FIRST_STATS_MS after the start, so its CPU figure spans a real interval), then one every
 * `statsIntervalMs`. It doubles as the ready signal: a change made before it may be missed.
 */
const watchWorkspace: Handler<"workspace.watch"> = async (params, ctx) => {
  const started = Date.now();
  const root = await workspaceRoot(ctx.policy, params.root);
  const send = (event: WorkspaceEvent) => ctx.emit(event);
  // Loaded by the first watch, not at start-up: an idle agent watches nothing.
  const { watch } = await loadChokidar();
  const coalescer = new ChangeCoalescer({
    delayMs: DEBOUNCE_MS,
    maxWaitMs: MAX_WAIT_MS,
    flush: (file, type) => send({ type: "file_changed", path: file, event_type: type }),
  });
  let cpuBefore = cpuTimes(os.cpus());
  const watcher = watch(root, { ignoreInitial: true, followSymlinks: false, ignored: (file) => isIgnored(root, file) });
  let statsTimer: NodeJS.Timeout | undefined;
  try {
    watcher.on("all", (event, file) => {
      const type = EVENT_TYPES[event];
      const relative = path.relative(root, file).split(path.sep).join("/");
      if (type && relative !== "" && !relative.startsWith("../")) coalescer.push(relative, type);
    });
    // Per-path errors (a folder made unreadable, a file gone mid-scan) leave the rest
    // watched; without a listener the emitter would throw them.
    watcher.on("error", () => undefined);
    if (!(await untilReadyOrAborted(watcher, ctx.signal))) return { ended: "cancelled" };

    const sample = async () => {
      const cpuNow = cpuTimes(os.cpus());
      const disk = await fs.statfs(root).then(diskPercent, () => 0);
      if (ctx.signal.aborted) return;
      send({
        type: "system_stats",
        stats: {
          cpu_percent: cpuPercent(cpuBefore, cpuNow),
          memory_percent: memoryPercent(os.totalmem(), os.freemem()),
          disk_percent: disk,
        },
      });
      cpuBefore = cpuNow;
      statsTimer = setTimeout(sample, params.statsIntervalMs);
    };
    // A chain of timeouts rather than an interval: a slow statfs never overlaps the next.
    statsTimer = setTimeout(sample, Math.max(0, started + FIRST_STATS_MS - Date.now()));
    await aborted(ctx.signal);
    return { ended: "cancelled" };
  } finally {
    clearTimeout(statsTimer);
    coalescer.close();
    await watcher.close();
  }
};

export const watchHandlers = { "workspace.watch": watchWorkspace } satisfies Pick<Handlers, "workspace.watch">;

/** True for `.git` and `node_modules` and anything below them (any depth, so nested repos too). */
function isIgnored(root: string, file: string): boolean {
  return path
    .relative(root, file)
    .split(path.sep)
    .some((segment) => IGNORED_NAMES.has(segment));
}

/** Resolves true once the initial scan is done, false if the request is cancelled first. */
function untilReadyOrAborted(watcher: FSWatcher, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const onAbort = () => resolve(false);
    signal.addEventListener("abort", onAbort, { once: true });
    watcher.once("ready", () => {
      signal.removeEventListener("abort", onAbort);
      resolve(true);
    });
  });
}

function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    signal.addEventListener("abort", () => resolve(), { once: true });
  });
}
