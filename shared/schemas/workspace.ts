import { z } from "zod";
import { absolutePath } from "./flexy";

/**
 * The Workspace Runtime API (`../shared/api/workspace-runtime-api.md`) as it travels over
 * the relay. Every command names the workspace's `root` (its catalog item's directory);
 * the agent confines every path to that root after realpath, inside its allowed roots.
 */

/** A path relative to the workspace root ("" is the root itself). Never absolute, never NUL. */
export const workspacePath = z
  .string()
  .max(4096)
  .refine((value) => !value.startsWith("/"), { message: "must be relative to the workspace" })
  .refine((value) => !value.includes("\0"), { message: "must not contain NUL" });

export const workspaceRoot = absolutePath;

/** The largest file read or written through the API; bigger files are refused. */
export const MAX_FILE_BYTES = 25 * 1024 * 1024;
/** One relay frame carries at most this much file content (base64 adds a third). */
export const FILE_CHUNK_BYTES = 512 * 1024;

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

export const gitAuthor = z.object({ name: z.string().min(1).max(200), email: z.string().min(3).max(254) });

/** Branch and ref names as git check-ref-format allows them, and never option-like. */
export const refName = z
  .string()
  .min(1)
  .max(255)
  .regex(/^(?!-)(?!.*\.\.)(?!.*\/\/)(?!.*@\{)(?!.*\.lock$)(?!\/)(?!.*\/$)(?!.*\.$)[^\s~^:?*[\\\x00-\x1f\x7f]+$/, {
    message: "a valid branch name (git check-ref-format), not starting with '-'",
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

export const settingsSection = z.enum(["settings", "hooks", "mcp"]);

/** Claude Code hooks: event name → matcher groups → commands. Unknown keys are kept. */
export const hooksSettings = z.record(
  z.string(),
  z.array(
    z
      .object({
        matcher: z.string().optional(),
        hooks: z.array(
          z
            .object({
              type: z.literal("command"),
              command: z.string().min(1),
              timeout: z.number().positive().optional(),
            })
            .loose(),
        ),
      })
      .loose(),
  ),
);

/** `.mcp.json` servers: stdio (command) or remote (url). Unknown keys are kept. */
export const mcpServers = z.record(
  z.string().regex(/^[A-Za-z0-9_.-]+$/),
  z.union([
    z
      .object({
        type: z.literal("stdio").optional(),
        command: z.string().min(1),
        args: z.array(z.string()).optional(),
        env: z.record(z.string(), z.string()).optional(),
      })
      .loose(),
    z
      .object({ type: z.enum(["http", "sse"]), url: z.url(), headers: z.record(z.string(), z.string()).optional() })
      .loose(),
  ]),
);

export const claudeSettings = z
  .object({
    permissions: z
      .object({
        allow: z.array(z.string()).optional(),
        deny: z.array(z.string()).optional(),
        ask: z.array(z.string()).optional(),
      })
      .loose()
      .optional(),
    env: z.record(z.string(), z.string()).optional(),
    hooks: hooksSettings.optional(),
    model: z.string().optional(),
  })
  .loose();

/**
 * The OpenSpec workflow actions Kai can run through the CLI: `init`, `list` and `validate`
 * (all of it) for the workspace; `validate`, `show` and `archive` for one change.
 */
export const openspecAction = z.enum(["init", "list", "validate", "show", "archive"]);

/** An OpenSpec change (a folder name under openspec/changes/); never option-like, never a path. */
export const openspecChangeName = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, {
    message: "a change name: letters, digits, '.', '_' and '-', not starting with '-' or '.'",
  });

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
