import type { AllowedRoots } from "./confine-path";
import { withWorkspace } from "./confined-fs";

/**
 * A workspace is a directory inside the agent's allowed roots; every path a workspace command names is relative
 * to it. Its root must resolve inside the allowed roots. To open, create, list or delete below it, use
 * runtime/fs/confined-fs.ts, which works from verified descriptors: a path checked once is only as good as the
 * moment it was checked.
 */

/** The workspace root's real path, checked on an open descriptor of it (NOT_FOUND when it is not a directory). */
export async function workspaceRoot(roots: AllowedRoots, root: string): Promise<string> {
  return withWorkspace(roots, root, async (workspace) => workspace.real);
}
