import path from "node:path";
import type { z } from "zod";
import { KaiError } from "../../shared/errors";
import { SETTINGS_SCHEMAS, type settingsSection } from "../../shared/schemas/claude-settings";
import { locate, withWorkspace } from "../runtime/fs/confined-fs";
import { fsError } from "../runtime/fs/errors";
import { isPlainObject, readJsonAt, readJsonObject, writeJsonAtomic } from "../runtime/fs/json-file";
import type { Handler, Handlers } from "./types";

type Section = z.infer<typeof settingsSection>;

/**
 * Claude Code settings of a workspace, by section:
 * - `settings`: the whole `.claude/settings.json` object. A write replaces it as sent
 *   (PUT semantics): keys the schema does not know are kept because the schemas are loose,
 *   but a key the caller leaves out (even `hooks`) is gone afterwards.
 * - `hooks`: the `hooks` key of `.claude/settings.json`; a write replaces that key only.
 * - `mcp`: the `mcpServers` key of `.mcp.json`; a write replaces that key only.
 * Section writes merge into the file, keeping every other top-level key untouched; a file
 * that is not valid JSON is never overwritten (VALIDATION_ERROR naming it).
 */
const FILES: Record<Section, { file: string; key: string | null }> = {
  settings: { file: ".claude/settings.json", key: null },
  hooks: { file: ".claude/settings.json", key: "hooks" },
  mcp: { file: ".mcp.json", key: "mcpServers" },
};

/** A missing file or key reads as `{}` with `exists: false` (`exists` is about the section, not the file). */
const read: Handler<"settings.read"> = (params, ctx) =>
  withWorkspace(ctx.policy, params.root, async (workspace) => {
    const { file, key } = FILES[params.section];
    const json = await readJsonObject(workspace, file, file);
    if (json === null) return { section: params.section, value: {}, exists: false };
    if (key === null) return { section: params.section, value: json, exists: true };
    const value = json[key];
    if (value === undefined) return { section: params.section, value: {}, exists: false };
    if (!isPlainObject(value))
      throw new KaiError("VALIDATION_ERROR", `"${key}" in ${file} must be a JSON object`, { details: { file } });
    return { section: params.section, value, exists: true };
  });

const write: Handler<"settings.write"> = async (params, ctx) => {
  const { file, key } = FILES[params.section];
  const parsed = SETTINGS_SCHEMAS[params.section].safeParse(params.value);
  if (!parsed.success) {
    throw new KaiError("VALIDATION_ERROR", `invalid ${params.section} settings`, {
      details: { issues: parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`) },
    });
  }
  // Written as sent, not as parsed: zod would move known keys first, and a file's key
  // order is its author's. The schemas transform nothing, so the two hold the same data.
  const value = params.value;
  await withWorkspace(ctx.policy, params.root, async (workspace) => {
    // The folder (.claude) is created if needed, relative to the root's handle; from here on
    // the file is read and replaced relative to that folder's handle, never by path.
    const target = await locate(workspace, file, { follow: true, createParents: true });
    try {
      if (target.entry && !target.entry.stats.isFile())
        throw new KaiError("VALIDATION_ERROR", `${file} is not a regular file`);
      await serialized(path.join(workspace.real, target.relative), async () => {
        let next = value;
        if (key !== null) next = { ...((await readJsonAt(target.folder, target.name, file)) ?? {}), [key]: value };
        await writeJsonAtomic(target.folder, target.name, next);
      });
    } catch (error) {
      // E.g. the folder was deleted meanwhile (NOT_FOUND), or the file replaced by a folder.
      throw fsError(error, file);
    } finally {
      await target.close();
    }
  });
  return { section: params.section, value };
};

export const settingsHandlers = { "settings.read": read, "settings.write": write } satisfies Pick<
  Handlers,
  "settings.read" | "settings.write"
>;

/** One read-modify-write per file at a time, so two section writes to one file do not lose each other's change. */
const queues = new Map<string, Promise<void>>();
async function serialized(file: string, work: () => Promise<void>): Promise<void> {
  const previous = queues.get(file) ?? Promise.resolve();
  const current = previous.then(work);
  const tail = current.catch(() => undefined);
  queues.set(file, tail);
  try {
    await current;
  } finally {
    if (queues.get(file) === tail) queues.delete(file);
  }
}
