import { z } from "zod";
import { absolutePath, containerName, containerPathProblem, imageReference, portMapping } from "./command-params";

/**
 * Containers, catalog items and host directories as the Kai API documents them
 * (`../shared/api/kai-api.md`). The same shapes travel over the relay, so the agent's
 * answers are checked against exactly what the API promises.
 */

/** Status words of the Kai API; Docker's own states are mapped onto these by the agent. */
const CONTAINER_STATUSES = ["created", "running", "paused", "restarting", "removing", "stopped"] as const;
export const containerStatus = z.enum(CONTAINER_STATUSES);
export type ContainerStatus = z.infer<typeof containerStatus>;

const containerPath = z
  .string()
  .min(1)
  .max(4096)
  .superRefine((value, ctx) => {
    const problem = containerPathProblem(value);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  });

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { message: "an environment variable name" });

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
