import fs from "node:fs/promises";
import path from "node:path";
import { KaiError } from "../../shared/errors";
import { type Policy, confinePath, isInsideRoot } from "../policy";

/**
 * A workspace is a directory inside the agent's allowed roots; every path a workspace
 * command names is relative to it. Both hold after realpath: the root must resolve inside
 * the allowed roots, and the target inside the root, so `..`, absolute paths and symlinks
 * leading out are refused with PERMISSION_DENIED.
 */
export interface WorkspaceTarget {
  /** The workspace root's real path. */
  root: string;
  /** The target's real path (through its nearest existing ancestor when it does not exist yet). */
  absolute: string;
  /** The target relative to the root, with forward slashes ("" for the root itself). */
  relative: string;
}

export async function workspaceRoot(policy: Policy, root: string): Promise<string> {
  const real = await confinePath(policy, root);
  const stat = await fs.stat(real).catch(() => null);
  if (!stat?.isDirectory()) throw new KaiError("NOT_FOUND", `the workspace directory ${root} does not exist on this host`);
  return real;
}

export async function confineToWorkspace(policy: Policy, root: string, relative: string): Promise<WorkspaceTarget> {
  if (relative.includes("\0")) throw new KaiError("PERMISSION_DENIED", "path must not contain NUL bytes");
  if (path.isAbsolute(relative)) throw new KaiError("PERMISSION_DENIED", `path must be relative to the workspace: ${relative}`);
  const realRoot = await workspaceRoot(policy, root);
  // confinePath resolves symlinks (through the nearest existing ancestor) and enforces the allowed roots...
  const absolute = await confinePath(policy, path.resolve(realRoot, relative));
  // ...and the workspace is a tighter fence inside them.
  if (!isInsideRoot(realRoot, absolute)) {
    throw new KaiError("PERMISSION_DENIED", `${relative} is outside the workspace`);
  }
  return { root: realRoot, absolute, relative: path.relative(realRoot, absolute).split(path.sep).join("/") };
}
