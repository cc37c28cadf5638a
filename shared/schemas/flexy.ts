import { z } from "zod";

/**
 * Containers, catalog items and host directories as the Kai API documents them
 * (`../shared/api/kai-api.md`). The same shapes travel over the relay, so the agent's
 * answers are checked against exactly what the API promises.
 */

/** Status words of the Kai API; Docker's own states are mapped onto these by the agent. */
const CONTAINER_STATUSES = ["created", "running", "paused", "restarting", "removing", "stopped"] as const;
export const containerStatus = z.enum(CONTAINER_STATUSES);
export type ContainerStatus = z.infer<typeof containerStatus>;

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

const containerPath = z
  .string()
  .min(1)
  .max(4096)
  .superRefine((value, ctx) => {
    const problem = containerPathProblem(value);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  });

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { message: "an environment variable name" });

export const portMapping = z.object({
  containerPort: z.number().int().min(1).max(65535),
  hostPort: z.number().int().min(0).max(65535).optional().describe("0 or omitted: Docker picks a free port"),
});

export const flexyContainer = z
  .object({
    id: z.string(),
    name: z.string(),
    status: containerStatus,
    image: z.string(),
    createdAt: z.string(),
    hostPath: z.string().nullable(),
    containerPath: z.string().nullable(),
  })
  .meta({ id: "FlexyContainer" });

export const flexyContainerDetails = flexyContainer
  .extend({
    ports: z.array(z.object({ hostPort: z.number().int(), containerPort: z.number().int() })),
    volumes: z.array(z.object({ hostPath: z.string(), containerPath: z.string(), mode: z.enum(["rw", "ro"]) })),
  })
  .meta({ id: "FlexyContainerDetails" });

export const createFlexyBody = z
  .object({
    name: containerName,
    image: imageReference,
    hostPath: absolutePath.optional().describe("Bound at containerPath; defaults to the catalog item's path"),
    containerPath: containerPath.default("/workspace"),
    env: z.record(envName, z.string().max(32_768)).default({}),
    ports: z.array(portMapping).max(32).optional(),
    catalogItemId: z.uuid().optional().describe("Record the new container on this catalog item"),
  })
  .strict()
  .meta({ id: "CreateFlexy" });

export const listFlexyQuery = z.object({
  status: z.enum(["running", "stopped", "paused"]).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(10),
  offset: z.coerce.number().int().min(0).default(0),
});

export const catalogItem = z
  .object({
    id: z.string(),
    name: z.string(),
    hostPath: z.string(),
    hostId: z.string(),
    containerId: z.string().nullable(),
    createdAt: z.string(),
  })
  .meta({ id: "CatalogItem" });

export const createCatalogBody = z
  .object({ name: z.string().trim().min(1).max(100), hostPath: absolutePath })
  .strict()
  .meta({ id: "CreateCatalogItem" });

export const directoryListingBody = z
  .object({ currentPath: absolutePath.optional().describe("Defaults to the first allowed root (the user's home)") })
  .strict()
  .meta({ id: "ListHostDirectories" });

const directoryEntry = z.object({ name: z.string(), path: z.string(), modified: z.string() });
const fileEntry = directoryEntry.extend({ size: z.number() });

export const directoryListing = z
  .object({
    path: z.string(),
    directories: z.array(directoryEntry),
    files: z.array(fileEntry),
    truncated: z.boolean().describe("True when the directory had more entries than the agent's cap"),
  })
  .meta({ id: "DirectoryListing" });

export type FlexyContainer = z.infer<typeof flexyContainer>;
export type FlexyContainerDetails = z.infer<typeof flexyContainerDetails>;
export type DirectoryListing = z.infer<typeof directoryListing>;
