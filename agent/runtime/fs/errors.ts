import { KaiError } from "../../../shared/errors";

/**
 * A failed file system call on a workspace path, as the Kai error the client sees. The
 * message names the path as the client wrote it, never the host's absolute path.
 * A KaiError passes through unchanged, so callers can wrap whole blocks.
 */
export function fsError(error: unknown, requested: string): KaiError {
  if (error instanceof KaiError) return error;
  const code = errnoCode(error);
  const shown = requested === "" ? "the workspace root" : requested;
  switch (code) {
    case "ENOENT":
    case "ENOTDIR":
      return new KaiError("NOT_FOUND", `no such file or folder: ${shown}`);
    case "EACCES":
    case "EPERM":
      return new KaiError("PERMISSION_DENIED", `${shown}: permission denied on this host`);
    case "ELOOP":
      // Only an O_NOFOLLOW open sees this: the path became a symlink after it was confined.
      return new KaiError("PERMISSION_DENIED", `${shown} is a symbolic link`);
    case "EISDIR":
      return new KaiError("VALIDATION_ERROR", `${shown} is a directory`);
    case "ENAMETOOLONG":
      return new KaiError("VALIDATION_ERROR", `${shown}: name too long`);
    case "EEXIST":
    case "ENOTEMPTY":
      return new KaiError("CONFLICT", `${shown} already exists or is not empty`);
    case "ENOSPC":
    case "EDQUOT":
      return new KaiError("INTERNAL_ERROR", `no space left on this host's disk for ${shown}`);
    default:
      return new KaiError(
        "INTERNAL_ERROR",
        `cannot access ${shown} (${code ?? (error instanceof Error ? error.message : "unknown error")})`,
      );
  }
}

/** The `code` of a Node system error (ENOENT, EACCES, ...), if it is one. */
export function errnoCode(error: unknown): string | undefined {
  if (typeof error === "object" && error !== null && "code" in error && typeof error.code === "string")
    return error.code;
  return undefined;
}
