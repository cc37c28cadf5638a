import fs from "node:fs/promises";
import path from "node:path";
import type { z } from "zod";
import { SETTINGS_SCHEMAS } from "../../shared/commands";
import { KaiError } from "../../shared/errors";
import type { settingsSection } from "../../shared/schemas/workspace";
import type { Policy } from "../policy";
import { isPlainObject, readJsonObject, writeJsonAtomic } from "../runtime/json-file";
import { confineToWorkspace } from "../runtime/workspace-paths";
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
const read: Handler<"settings.read"> = async (params, ctx) => {
  const { file, key } = FILES[params.section];
  const target = await confineToWorkspace(ctx.policy, params.root, file);
  const json = await readJsonObject(target.absolute, file);
  if (json === null) return { section: params.section, value: {}, exists: false };
  if (key === null) return { section: params.section, value: json, exists: true };
  const value = json[key];
  if (value === undefined) return { section: params.section, value: {}, exists: false };
  if (!isPlainObject(value)) throw new KaiError("VALIDATION_ERROR", `"${key}" in ${file} must be a JSON object`, { details: { file } });
  return { section: params.section, value, exists: true };
};

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
  const target = await prepare(ctx.policy, params.root, file);
  await serialized(target, async () => {
    let next = value;
    if (key !== null) next = { ...((await readJsonObject(target, file)) ?? {}), [key]: value };
    await writeJsonAtomic(target, next);
  });
  return { section: params.section, value };
};

export const settingsHandlers = { "settings.read": read, "settings.write": write } satisfies Pick<Handlers, "settings.read" | "settings.write">;

/**
 * The file's real path, its folder created if needed. Confined again after the mkdir: a
 * `.claude` that appeared meanwhile as a symlink leading out is refused, not written through.
 */
async function prepare(policy: Policy, root: string, file: string): Promise<string> {
  const before = await confineToWorkspace(policy, root, file);
  await fs.mkdir(path.dirname(before.absolute), { recursive: true });
  const after = await confineToWorkspace(policy, root, file);
  if (after.absolute !== before.absolute) throw new KaiError("PERMISSION_DENIED", `${file} moved while it was being written`);
  return after.absolute;
}

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
