import path from "node:path";
import { KaiError } from "../../../shared/errors";
import { type AllowedRoots, confinePath, isInsideRoot } from "./confine-path";
import { withWorkspace } from "./confined-fs";

/**
 * A workspace is a directory inside the agent's allowed roots; every path a workspace
 * command names is relative to it. Both hold after realpath: the root must resolve inside
 * the allowed roots, and the target inside the root, so `..`, absolute paths and symlinks
 * leading out are refused with PERMISSION_DENIED.
 *
 * A path answered here is only as good as the moment it was checked: anything that can
 * write in the workspace can swap a folder on it for a symlink right after. To open,
 * create, list or delete, use runtime/confined-fs.ts, which works from verified
 * descriptors; these paths are for a working directory, a message, or a tool (git) that
 * takes one.
 */
export interface WorkspaceTarget {
  /** The workspace root's real path. */
  root: string;
  /** The target's real path (through its nearest existing ancestor when it does not exist yet). */
  absolute: string;
  /** The target relative to the root, with forward slashes ("" for the root itself). */
  relative: string;
}

/** The workspace root's real path, checked on an open descriptor of it (NOT_FOUND when it is not a directory). */
export async function workspaceRoot(roots: AllowedRoots, root: string): Promise<string> {
  return withWorkspace(roots, root, async (workspace) => workspace.real);
}

export async function confineToWorkspace(
  roots: AllowedRoots,
  root: string,
  relative: string,
): Promise<WorkspaceTarget> {
  if (relative.includes("\0")) throw new KaiError("PERMISSION_DENIED", "path must not contain NUL bytes");
  if (path.isAbsolute(relative))
    throw new KaiError("PERMISSION_DENIED", `path must be relative to the workspace: ${relative}`);
  const realRoot = await workspaceRoot(roots, root);
  // confinePath resolves symlinks (through the nearest existing ancestor) and enforces the allowed roots...
  const absolute = await confinePath(roots, path.resolve(realRoot, relative));
  // ...and the workspace is a tighter fence inside them.
  if (!isInsideRoot(realRoot, absolute)) {
    throw new KaiError("PERMISSION_DENIED", `${relative} is outside the workspace`);
  }
  return { root: realRoot, absolute, relative: path.relative(realRoot, absolute).split(path.sep).join("/") };
}
