import { z } from "zod";

/**
 * The fields commands' params are built from (shared/commands.ts), and the API bodies that
 * carry the same values. Apart from the replies and API bodies, so the agent, which checks
 * every request's params but never a reply, builds only these: every zod schema is a graph
 * of objects made by running code, and an idle agent that built the replies' schemas too
 * held about 1 MiB more and made V8 optimise zod's constructor (3.3 MiB of TurboFan's pages).
 */

/** Names Docker accepts, without the leading slash. */
export const containerName = z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/, {
  message: "1-128 characters: letters, digits, _ . - (not starting with a symbol)",
});

/** An image reference: name[:tag][@digest], no whitespace or option-like leading dash. */
export const imageReference = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[a-zA-Z0-9][a-zA-Z0-9_.\-/:@]*$/, { message: "an image reference such as busybox:latest" });

/** A container id (full or short hex) or a container name. */
export const containerRef = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, { message: "a container id or name" });

export const absolutePath = z
  .string()
  .min(1)
  .max(4096)
  .refine((value) => value.startsWith("/"), { message: "must be an absolute path" })
  .refine((value) => !value.includes("\0"), { message: "must not contain NUL" });

/**
 * Where the host directory is mounted inside the container. Docker refuses `/` at create,
 * and the container runtime fails at start on its own mounts (`/proc`, `/dev`) or files it
 * writes itself (`/etc/hosts`); `/sys` would hide the kernel's interface. A path with `..`,
 * `.` or doubled slashes is refused rather than quietly normalised, so what is stored and
 * shown is what the client sent.
 */
const RUNTIME_TREES = ["/proc", "/sys", "/dev"];
const RUNTIME_FILES = ["/etc/hosts", "/etc/hostname", "/etc/resolv.conf", "/.dockerenv"];

/** Why `value` cannot be a container mount point, or undefined when it can. */
export function containerPathProblem(value: string): string | undefined {
  if (!value.startsWith("/")) return "must be an absolute path inside the container, such as /workspace";
  if (/[\0-\x1f\x7f]/.test(value)) return "must not contain NUL or control characters";
  if (value === "/")
    return "cannot be / (Docker cannot mount over the container's root); use a directory such as /workspace";
  if (value.split("/").some((part) => part === "." || part === "..")) return "must not contain . or .. segments";
  if (value.includes("//") || value.endsWith("/")) return "must be normalised: no doubled or trailing slashes";
  const reserved =
    RUNTIME_TREES.find((tree) => value === tree || value.startsWith(`${tree}/`)) ??
    RUNTIME_FILES.find((file) => value === file);
  if (reserved)
    return `cannot be ${value}: ${reserved} belongs to the container runtime; use a directory such as /workspace`;
  return undefined;
}

export const portMapping = z.object({
  containerPort: z.number().int().min(1).max(65535),
  hostPort: z.number().int().min(0).max(65535).optional().describe("0 or omitted: Docker picks a free port"),
});

/** A path relative to the workspace root ("" is the root itself). Never absolute, never NUL. */
export const workspacePath = z
  .string()
  .max(4096)
  .refine((value) => !value.startsWith("/"), { message: "must be relative to the workspace" })
  .refine((value) => !value.includes("\0"), { message: "must not contain NUL" });

/** The largest file read or written through the API; bigger files are refused. */
export const MAX_FILE_BYTES = 25 * 1024 * 1024;
/** One relay frame carries at most this much file content (base64 adds a third). */
export const FILE_CHUNK_BYTES = 512 * 1024;

export const gitAuthor = z.object({ name: z.string().min(1).max(200), email: z.string().min(3).max(254) });

/** Branch and ref names as git check-ref-format allows them, and never option-like. */
export const refName = z
  .string()
  .min(1)
  .max(255)
  .regex(/^(?!-)(?!.*\.\.)(?!.*\/\/)(?!.*@\{)(?!.*\.lock$)(?!\/)(?!.*\/$)(?!.*\.$)[^\s~^:?*[\\\x00-\x1f\x7f]+$/, {
    message: "a valid branch name (git check-ref-format), not starting with '-'",
  });

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

/** ACP's permission option kinds; Kai chooses an option by kind, never by its id or name. */
export const approvalOptionKind = z.enum(["allow_once", "allow_always", "reject_once", "reject_always"]);

/** A user message: 1 to 8000 characters (the Runtime API's bound for agent-chats). */
export const agentPrompt = z.string().min(1).max(8000);
