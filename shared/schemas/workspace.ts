import { z } from "zod";
import { openspecAction } from "./command-params";

/**
 * The Workspace Runtime API (`../shared/api/workspace-runtime-api.md`) as it travels over
 * the relay. Every command names the workspace's `root` (its catalog item's directory);
 * the agent confines every path to that root after realpath, inside its allowed roots.
 */

export const fileEntry = z.object({
  name: z.string(),
  path: z.string().describe("Relative to the workspace"),
  type: z.enum(["file", "directory", "symlink", "other"]),
  size: z.number().int(),
  modified: z.string(),
});

export const fileChunk = z.object({
  path: z.string(),
  size: z.number().int().describe("The whole file's size"),
  offset: z.number().int(),
  /** base64 of bytes [offset, offset + length) */
  data: z.string(),
  eof: z.boolean(),
  contentType: z.string().describe("Guessed from the name and content, e.g. text/plain; charset=utf-8"),
  binary: z.boolean(),
  modified: z.string(),
});

export const gitStatus = z.object({
  branch: z.string().nullable(),
  upstream: z.string().nullable(),
  ahead: z.number().int(),
  behind: z.number().int(),
  clean: z.boolean(),
  files: z.array(z.object({ path: z.string(), index: z.string(), workingTree: z.string() })),
});

export const gitCommitInfo = z.object({
  hash: z.string(),
  author: z.string(),
  email: z.string(),
  date: z.string(),
  message: z.string(),
});

export const scriptInfo = z.object({
  name: z.string(),
  source: z.enum(["package.json", ".kai/scripts"]),
  command: z.string().describe("What it runs (the package.json script text, or the executable's path)"),
});

export const scriptOutput = z.object({ stream: z.enum(["stdout", "stderr"]), data: z.string() });

export const openspecState = z.object({
  initialized: z.boolean(),
  cliAvailable: z.boolean(),
  specs: z.array(z.object({ name: z.string(), path: z.string() })),
  changes: z.array(
    z.object({
      name: z.string(),
      tasks: z.object({ total: z.number().int(), done: z.number().int() }),
      actions: z.array(openspecAction).describe("Workflow actions available for this change, e.g. validate, archive"),
    }),
  ),
  archived: z.array(z.object({ name: z.string() })),
  actions: z.array(openspecAction).describe("Workspace-level actions, e.g. init, list"),
});

const fileChangedEvent = z.object({
  type: z.literal("file_changed"),
  path: z.string(),
  event_type: z.enum(["created", "modified", "deleted"]),
});
const systemStatsEvent = z.object({
  type: z.literal("system_stats"),
  stats: z.object({ cpu_percent: z.number(), memory_percent: z.number(), disk_percent: z.number() }),
});
export const workspaceEvent = z.discriminatedUnion("type", [fileChangedEvent, systemStatsEvent]);
