import { z } from "zod";
import { CONTAINER_EVENT_ACTIONS } from "../protocol";
import { containerRef } from "./command-params";

/**
 * Services and monitoring as the AIKit Dashboard API documents them
 * (`../shared/api/aikit-dashboard-api.md`): every container of a host's engine, Kai's or not.
 */

export const serviceStatus = z.enum(["running", "stopped", "paused", "restarting", "created", "removing", "dead"]);
const serviceHealth = z.enum(["healthy", "unhealthy", "starting", "none"]);

const serviceStats = z.object({
  /** CPU percent over the last sample: CPU delta over system delta times online CPUs. */
  cpu: z.number(),
  /** Memory percent of the limit, page cache excluded. */
  memory: z.number(),
  /** Seconds since the container last started (0 when not running). */
  uptime: z.number(),
  restartCount: z.number().int(),
});

export const service = z
  .object({
    id: z.string().describe("The container's name"),
    name: z.string(),
    containerId: z.string().describe("The container's short id"),
    status: serviceStatus,
    health: serviceHealth,
    version: z.string().nullable().describe("From the image tag or the org.opencontainers.image.version label"),
    description: z.string().nullable(),
    url: z.string().nullable().describe("http://localhost:<first published port>"),
    port: z.number().int().nullable(),
    stats: serviceStats,
  })
  .meta({ id: "Service" });

export const serviceDetails = service
  .extend({
    details: z.object({
      image: z.string(),
      created: z.string(),
      ports: z.array(z.object({ internal: z.number().int(), external: z.number().int().nullable() })),
      volumes: z.array(z.object({ source: z.string(), destination: z.string() })),
      env: z.array(z.string()),
    }),
  })
  .meta({ id: "ServiceDetails" });

export const listServicesQuery = z.object({
  filter: z.enum(["running", "stopped", "all"]).default("all"),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  page: z.coerce.number().int().min(1).default(1),
});

export const logEntry = z.object({
  timestamp: z.string(),
  message: z.string(),
  level: z.enum(["error", "warn", "info", "debug"]),
  stream: z.enum(["stdout", "stderr"]),
});

export const logsQuery = z.object({
  lines: z.coerce.number().int().min(1).max(10_000).default(100),
  since: z.iso.datetime({ offset: true }).optional().describe("Only lines at or after this time"),
});

export const containerStats = z
  .object({
    cpu: z.number(),
    memory: z.number(),
    memoryUsage: z.number().int(),
    memoryLimit: z.number().int(),
    uptime: z.number(),
    restartCount: z.number().int(),
    timestamp: z.string(),
  })
  .meta({ id: "ServiceStats" });

export const systemStats = z
  .object({
    services: z.object({ total: z.number().int(), running: z.number().int(), stopped: z.number().int() }),
    resources: z.object({ avgCpu: z.number(), avgMemory: z.number(), totalMemoryUsage: z.number().int() }),
    health: z.object({
      status: z.enum(["healthy", "degraded", "unhealthy"]),
      warnings: z.number().int(),
      errors: z.number().int(),
    }),
  })
  .meta({ id: "SystemStats" });

export const serviceRef = z.object({ id: containerRef });

/** A container lifecycle event from the agent's Docker event stream. */
export const containerEvent = z.object({
  action: z.enum(CONTAINER_EVENT_ACTIONS),
  containerId: z.string(),
  name: z.string(),
  image: z.string(),
  managed: z.boolean().describe("Carries kai.managed=true for this host"),
  exitCode: z.number().int().nullable(),
  time: z.string(),
});

export type Service = z.infer<typeof service>;
export type ServiceDetails = z.infer<typeof serviceDetails>;
export type LogEntry = z.infer<typeof logEntry>;
export type ContainerEvent = z.infer<typeof containerEvent>;
