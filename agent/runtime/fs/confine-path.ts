import fs from "node:fs/promises";
import path from "node:path";
import { KaiError } from "../../../shared/errors";
import { errnoCode } from "./errors";

/**
 * Where host paths may lead: the part of the agent's policy (agent/policy.ts) that the file
 * system layer enforces. The policy hands it down; nothing here reads the policy itself.
 */
export interface AllowedRoots {
  /** Real paths (symlinks resolved) of the directories the edge may see and bind. */
  allowedRoots: readonly string[];
}

/** True when `candidate` is `root` or below it. `/home/user2` is not inside `/home/user`. */
export function isInsideRoot(root: string, candidate: string): boolean {
  const relative = path.relative(root, candidate);
  return relative === "" || (relative !== ".." && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative));
}

/**
 * Resolves `requested` to its real path and returns it if it lies inside an allowed root;
 * otherwise throws PERMISSION_DENIED. Callers must use the returned path, never `requested`:
 * the check holds for the resolved path only. A path that does not exist yet resolves through
 * its nearest existing ancestor; a dangling symlink on the way is refused, because where a
 * later create would land is outside our control.
 */
export async function confinePath(roots: AllowedRoots, requested: string): Promise<string> {
  if (typeof requested !== "string" || requested.length === 0) throw denied("a path is required");
  if (requested.includes("\0")) throw denied("path must not contain NUL bytes");
  if (!path.isAbsolute(requested)) throw denied(`path must be absolute: ${JSON.stringify(requested)}`);
  const real = await realpathNearest(requested, requested);
  const resolvedRoots = await realRoots(roots);
  if (!resolvedRoots.some((root) => isInsideRoot(root, real))) {
    throw denied(`${requested} is outside the allowed roots (${roots.allowedRoots.join(", ")})`, {
      allowedRoots: roots.allowedRoots,
    });
  }
  return real;
}

/** Roots re-resolved on each check: a policy built in code may hold non-real paths. */
async function realRoots(allowed: AllowedRoots): Promise<string[]> {
  const roots = await Promise.all(allowed.allowedRoots.map((root) => fs.realpath(root).catch(() => null)));
  return roots.filter((root): root is string => root !== null);
}

async function realpathNearest(candidate: string, requested: string): Promise<string> {
  try {
    return await fs.realpath(candidate);
  } catch (error) {
    const code = errnoCode(error);
    if (code !== "ENOENT" && code !== "ENOTDIR")
      throw denied(`cannot resolve ${requested} (${code ?? "unknown error"})`);
  }
  if (await lexists(candidate)) throw denied(`cannot resolve ${requested}: ${candidate} is a broken symbolic link`);
  const parent = path.dirname(candidate);
  if (parent === candidate) throw denied(`cannot resolve ${requested}`);
  return path.join(await realpathNearest(parent, requested), path.basename(candidate));
}

async function lexists(candidate: string): Promise<boolean> {
  try {
    await fs.lstat(candidate);
    return true;
  } catch {
    return false;
  }
}

function denied(message: string, details?: Record<string, unknown>): KaiError {
  return new KaiError("PERMISSION_DENIED", message, details ? { details } : {});
}
