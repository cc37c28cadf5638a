import { z } from "zod";
import {
  absolutePath,
  containerName,
  containerRef,
  containerStatus,
  directoryListing,
  flexyContainer,
  flexyContainerDetails,
  imageReference,
  portMapping,
} from "./schemas/flexy";

/**
 * Every operation the edge can ask an agent to run: its name, its params and its result.
 * The agent's handler map is typed from this table (a missing handler does not compile),
 * the edge's `relay(op, params)` is typed from it, and both sides validate with it.
 */

/**
 * Container options a client could ask for. The Kai API never sets the dangerous ones, but
 * the agent checks them anyway: its policy must hold whatever the edge sends.
 */
export const containerSecurityOptions = z
  .object({
    privileged: z.boolean().optional(),
    networkMode: z.string().optional(),
    pidMode: z.string().optional(),
    ipcMode: z.string().optional(),
    utsMode: z.string().optional(),
    usernsMode: z.string().optional(),
    capAdd: z.array(z.string()).optional(),
    devices: z.array(z.string()).optional(),
    securityOpt: z.array(z.string()).optional(),
    extraBinds: z.array(z.string()).optional(),
  })
  .strict();

export const COMMANDS = {
  ping: {
    params: z.object({}).strict(),
    result: z.object({ pong: z.literal(true), agentTime: z.string() }),
  },
  "docker.info": {
    params: z.object({}).strict(),
    result: z.object({ ok: z.boolean(), version: z.string().nullable(), error: z.string().optional() }),
  },
  "container.list": {
    params: z.object({
      status: z.enum(["running", "stopped", "paused"]).optional(),
      limit: z.number().int().min(1).max(100),
      offset: z.number().int().min(0),
    }),
    result: z.object({ containers: z.array(flexyContainer), total: z.number().int() }),
  },
  "container.create": {
    params: z
      .object({
        name: containerName,
        image: imageReference,
        hostPath: absolutePath,
        containerPath: absolutePath,
        env: z.record(z.string(), z.string()),
        ports: z.array(portMapping).optional(),
        labels: z.record(z.string().regex(/^kai\.[a-z.]+$/), z.string()).optional(),
        security: containerSecurityOptions.optional(),
      })
      .strict(),
    result: flexyContainer,
  },
  "container.inspect": { params: z.object({ id: containerRef }).strict(), result: flexyContainerDetails },
  "container.remove": { params: z.object({ id: containerRef }).strict(), result: z.object({ id: z.string() }) },
  "container.start": {
    params: z.object({ id: containerRef }).strict(),
    result: z.object({ id: z.string(), status: containerStatus }),
  },
  "container.stop": {
    params: z.object({ id: containerRef, timeoutSeconds: z.number().int().min(0).max(300).optional() }).strict(),
    result: z.object({ id: z.string(), status: containerStatus }),
  },
  "container.restart": {
    params: z.object({ id: containerRef, timeoutSeconds: z.number().int().min(0).max(300).optional() }).strict(),
    result: z.object({ id: z.string(), status: containerStatus }),
  },
  "directory.list": {
    params: z.object({ path: absolutePath.optional() }).strict(),
    result: directoryListing,
  },
  "path.check": {
    params: z.object({ path: absolutePath }).strict(),
    result: z.object({ path: z.string(), isDirectory: z.boolean() }),
  },
} as const satisfies Record<string, { params: z.ZodType; result: z.ZodType }>;

export type Op = keyof typeof COMMANDS;
export const OPS = Object.keys(COMMANDS) as Op[];
export type ParamsOf<O extends Op> = z.infer<(typeof COMMANDS)[O]["params"]>;
export type ResultOf<O extends Op> = z.infer<(typeof COMMANDS)[O]["result"]>;

export function isOp(value: string): value is Op {
  return Object.hasOwn(COMMANDS, value);
}
