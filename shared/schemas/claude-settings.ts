import { z } from "zod";
import { lazyTable } from "../lazy-table";

/**
 * Claude Code's settings files in a workspace, which `settings.read` and `settings.write` handle
 * by section. Each section's schema is built on its first use: the agent validates a write
 * with it, and an idle agent never writes one.
 */

export const settingsSection = z.enum(["settings", "hooks", "mcp"]);

/** Claude Code hooks: event name → matcher groups → commands. Unknown keys are kept. */
const hooksSettings = () =>
  z.record(
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
const mcpServers = () =>
  z.record(
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

const claudeSettings = () =>
  z
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
      hooks: hooksSettings().optional(),
      model: z.string().optional(),
    })
    .loose();

/** Each section's schema (the agent validates `settings.write` with it). */
export const SETTINGS_SCHEMAS = lazyTable({ settings: claudeSettings, hooks: hooksSettings, mcp: mcpServers });
