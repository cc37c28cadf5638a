import { z } from "zod";
import type { Op, StreamOp } from "./commands";
import { lazyTable } from "./lazy-table";
import { agentProfileName } from "./schemas/agent-profiles";
import { agentSessionState } from "./schemas/agent-sessions";
import { settingsSection } from "./schemas/claude-settings";
import { openspecAction } from "./schemas/command-params";
import { doctorReport } from "./schemas/doctor";
import { containerStatus, directoryListing, flexyContainer, flexyContainerDetails } from "./schemas/flexy";
import { containerStats, logEntry, service, serviceDetails, serviceStatus, systemStats } from "./schemas/services";
import {
  fileChunk,
  fileEntry,
  gitCommitInfo,
  gitStatus,
  openspecState,
  scriptInfo,
  scriptOutput,
  workspaceEvent,
} from "./schemas/workspace";

/**
 * What each command of shared/commands.ts answers: its result, and the chunks a streaming
 * command sends before it. The edge checks every reply of an agent against these before a
 * client sees it, and the API documents them. The agent never checks its own replies, so it
 * never loads this module (nor the schemas it is built from).
 */
const DEFINITIONS = {
  ping: () => ({ result: z.object({ pong: z.literal(true), agentTime: z.string() }) }),
  "doctor.run": () => ({ result: doctorReport }),
  "docker.info": () => ({
    result: z.object({ ok: z.boolean(), version: z.string().nullable(), error: z.string().optional() }),
  }),
  "container.list": () => ({ result: z.object({ containers: z.array(flexyContainer), total: z.number().int() }) }),
  "container.create": () => ({ result: flexyContainer }),
  "container.inspect": () => ({ result: flexyContainerDetails }),
  "container.remove": () => ({ result: z.object({ id: z.string() }) }),
  "container.start": () => ({ result: z.object({ id: z.string(), status: containerStatus }) }),
  "container.stop": () => ({ result: z.object({ id: z.string(), status: containerStatus }) }),
  "container.restart": () => ({ result: z.object({ id: z.string(), status: containerStatus }) }),
  "directory.list": () => ({ result: directoryListing }),
  "path.check": () => ({ result: z.object({ path: z.string(), isDirectory: z.boolean() }) }),
  "service.list": () => ({ result: z.object({ services: z.array(service), total: z.number().int() }) }),
  "service.inspect": () => ({ result: serviceDetails }),
  "service.start": () => ({ result: z.object({ status: serviceStatus }) }),
  "service.stop": () => ({ result: z.object({ status: serviceStatus }) }),
  "service.restart": () => ({ result: z.object({ status: serviceStatus }) }),
  "service.update": () => ({
    result: z.object({
      containerId: z.string().describe("The new container's id (unchanged when nothing was updated)"),
      image: z.string(),
      version: z.string().nullable(),
      updated: z.boolean().describe("False when the image was already current"),
    }),
  }),
  "service.logs": () => ({ result: z.object({ logs: z.array(logEntry) }) }),
  "service.stats": () => ({ result: containerStats }),
  "system.stats": () => ({ result: systemStats }),
  "service.logs.follow": () => ({
    result: z.object({ ended: z.enum(["container-stopped", "cancelled"]), lines: z.number().int() }),
    chunk: logEntry,
  }),
  "files.list": () => ({ result: z.object({ path: z.string(), entries: z.array(fileEntry), truncated: z.boolean() }) }),
  "files.read": () => ({ result: fileChunk }),
  "files.write": () => ({
    result: z.object({
      path: z.string(),
      size: z.number().int(),
      written: z.boolean().describe("True once the last chunk put the file in place"),
    }),
  }),
  "files.delete": () => ({ result: z.object({ path: z.string(), deleted: z.literal(true) }) }),
  "git.status": () => ({ result: gitStatus }),
  "git.log": () => ({ result: z.object({ commits: z.array(gitCommitInfo), hasMore: z.boolean() }) }),
  "git.commit": () => ({ result: z.object({ hash: z.string(), branch: z.string().nullable(), summary: z.string() }) }),
  "git.push": () => ({ result: z.object({ remote: z.string(), branch: z.string(), output: z.string() }) }),
  "git.pull": () => ({
    result: z.object({ remote: z.string(), branch: z.string(), output: z.string(), updated: z.boolean() }),
  }),
  "git.branches": () => ({
    result: z.object({
      current: z.string().nullable(),
      branches: z.array(z.object({ name: z.string(), current: z.boolean(), remote: z.boolean(), commit: z.string() })),
    }),
  }),
  "git.checkout": () => ({ result: z.object({ branch: z.string(), created: z.boolean() }) }),
  "scripts.list": () => ({ result: z.object({ scripts: z.array(scriptInfo) }) }),
  "scripts.run": () => ({
    result: z.object({
      exitCode: z.number().int().nullable(),
      signal: z.string().nullable(),
      timedOut: z.boolean(),
      cancelled: z.boolean(),
      durationMs: z.number().int(),
    }),
    chunk: scriptOutput,
  }),
  "settings.read": () => ({
    result: z.object({ section: settingsSection, value: z.record(z.string(), z.unknown()), exists: z.boolean() }),
  }),
  "settings.write": () => ({
    result: z.object({ section: settingsSection, value: z.record(z.string(), z.unknown()) }),
  }),
  "openspec.state": () => ({ result: openspecState }),
  "openspec.run": () => ({
    result: z.object({
      action: openspecAction,
      change: z.string().nullable(),
      exitCode: z.number().int().nullable().describe("null when the CLI was stopped (timeout)"),
      output: z.string().describe("stdout and stderr interleaved as they came; only the last 256 KiB when longer"),
      timedOut: z.boolean(),
    }),
  }),
  "workspace.watch": () => ({
    result: z.object({ ended: z.literal("cancelled") }),
    chunk: workspaceEvent,
    /** Viewers get each event as it is (the documented `file_changed` / `system_stats` shapes), not wrapped. */
    viewer: "raw",
  }),
  "agentSession.start": () => ({ result: z.object({ profile: agentProfileName, state: agentSessionState }) }),
  "agentSession.prompt": () => ({ result: z.object({ runId: z.uuid() }) }),
  "agentSession.cancel": () => ({ result: z.object({ cancelled: z.boolean() }) }),
  "agentSession.answer": () => ({
    result: z.object({ state: z.enum(["allowed", "rejected", "cancelled"]), optionId: z.string().optional() }),
  }),
  "agentSession.close": () => ({ result: z.object({ state: agentSessionState }) }),
  "agentSession.sync": () => ({
    result: z.object({
      sessions: z.array(
        z.object({
          sessionId: z.uuid(),
          state: agentSessionState,
          /** Messages after `lastSeq` that the agent no longer holds (its buffer is bounded): first and last seq lost. */
          lost: z.object({ from: z.number().int(), to: z.number().int() }).optional(),
        }),
      ),
    }),
  }),
} satisfies { [O in Op]: () => Reply<O> };

/** A streaming command's chunks; `viewer: "raw"`: viewers get each chunk as it is, not wrapped in a frame. */
type Reply<O extends Op> = O extends StreamOp
  ? { result: z.ZodType; chunk: z.ZodType; viewer?: "raw" }
  : { result: z.ZodType; chunk?: never; viewer?: never };

/** Each command's reply schemas, built the first time it is looked up (as COMMANDS). */
export const REPLIES = lazyTable(DEFINITIONS);

export type ResultOf<O extends Op> = z.infer<(typeof REPLIES)[O]["result"]>;
export type ChunkOf<O extends StreamOp> = z.infer<(typeof REPLIES)[O]["chunk"]>;
