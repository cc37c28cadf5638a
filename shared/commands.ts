import { z } from "zod";
import { lazyTable } from "./lazy-table";
import { agentProfileName, agentPrompt, agentSessionState, approvalOptionKind } from "./schemas/agent-sessions";
import { doctorReport } from "./schemas/doctor";
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
import { containerStats, logEntry, service, serviceDetails, serviceStatus, systemStats } from "./schemas/services";
import {
  claudeSettings,
  fileChunk,
  fileEntry,
  gitAuthor,
  gitCommitInfo,
  gitStatus,
  hooksSettings,
  mcpServers,
  openspecAction,
  openspecChangeName,
  openspecState,
  refName,
  scriptInfo,
  scriptOutput,
  settingsSection,
  workspaceEvent,
  workspacePath,
  workspaceRoot,
} from "./schemas/workspace";

const inWorkspace = { root: workspaceRoot };

/** How long a container gets to stop before it is killed, when the caller does not say (Docker's own default). */
export const STOP_GRACE_DEFAULT_SECONDS = 10;
const graceSeconds = z.number().int().min(0).max(300);

/**
 * A command's deadline: how long the agent may legitimately work on it, in ms, beyond an
 * ordinary answer. The agent stops its own work (a process, a network call) at the deadline,
 * so it ends with its own error; the edge waits the deadline plus AGENT_TIMEOUT_MS, the
 * margin for the round trip, so it hears that error rather than answering AGENT_TIMEOUT.
 * Commands without one are expected to answer within AGENT_TIMEOUT_MS.
 */
const stopDeadline = (params: { timeoutSeconds?: number | undefined }) =>
  (params.timeoutSeconds ?? STOP_GRACE_DEFAULT_SECONDS) * 1000;
/** git push and pull talk to a remote. */
export const GIT_NETWORK_DEADLINE_MS = 80_000;
/** An OpenSpec CLI action (e.g. archive). */
const OPENSPEC_RUN_DEADLINE_MS = 120_000;
/**
 * Starting an agent process: spawning it, ACP's initialize, then session/new, or session/load
 * (which replays a whole conversation first) when a session is restored.
 */
const AGENT_START_DEADLINE_MS = 60_000;
/** Stopping an agent process: SIGTERM, then SIGKILL after this grace. */
export const AGENT_STOP_GRACE_MS = 5_000;
const agentSessionId = z.uuid();
/**
 * The agent's own id of a session, handed back to its session/load or session/resume. Agents
 * may name files after it, so it never carries a path: letters, digits and `._:-`, no `..`.
 */
const acpSessionId = z
  .string()
  .regex(/^[A-Za-z0-9._:-]{1,256}$/)
  .refine((value) => !value.includes(".."), { message: "must not contain '..'" });

/**
 * `kai-agent doctor` run on the edge's request: each network check (the server, the token)
 * gives up after 5 s, Docker's too; the rest is local.
 */
const DOCTOR_DEADLINE_MS = 20_000;

/** Pulling a service's new image before it is recreated (plus the old container's stop). */
const IMAGE_PULL_DEADLINE_MS = 120_000;

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

const DEFINITIONS = {
  ping: () => ({
    params: z.object({}).strict(),
    result: z.object({ pong: z.literal(true), agentTime: z.string() }),
  }),
  /** Runs `kai-agent doctor` inside the agent, with its own settings; the request itself is the round trip. */
  "doctor.run": () => ({ params: z.object({}).strict(), result: doctorReport, deadline: () => DOCTOR_DEADLINE_MS }),
  "docker.info": () => ({
    params: z.object({}).strict(),
    result: z.object({ ok: z.boolean(), version: z.string().nullable(), error: z.string().optional() }),
  }),
  "container.list": () => ({
    params: z.object({
      status: z.enum(["running", "stopped", "paused"]).optional(),
      limit: z.number().int().min(1).max(100),
      offset: z.number().int().min(0),
    }),
    result: z.object({ containers: z.array(flexyContainer), total: z.number().int() }),
  }),
  "container.create": () => ({
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
  }),
  "container.inspect": () => ({ params: z.object({ id: containerRef }).strict(), result: flexyContainerDetails }),
  "container.remove": () => ({ params: z.object({ id: containerRef }).strict(), result: z.object({ id: z.string() }) }),
  "container.start": () => ({
    params: z.object({ id: containerRef }).strict(),
    result: z.object({ id: z.string(), status: containerStatus }),
  }),
  "container.stop": () => ({
    params: z.object({ id: containerRef, timeoutSeconds: graceSeconds.optional() }).strict(),
    result: z.object({ id: z.string(), status: containerStatus }),
    deadline: stopDeadline,
  }),
  "container.restart": () => ({
    params: z.object({ id: containerRef, timeoutSeconds: graceSeconds.optional() }).strict(),
    result: z.object({ id: z.string(), status: containerStatus }),
    deadline: stopDeadline,
  }),
  "directory.list": () => ({
    params: z.object({ path: absolutePath.optional() }).strict(),
    result: directoryListing,
  }),
  "path.check": () => ({
    params: z.object({ path: absolutePath }).strict(),
    result: z.object({ path: z.string(), isDirectory: z.boolean() }),
  }),
  "service.list": () => ({
    params: z
      .object({
        filter: z.enum(["running", "stopped", "all"]),
        limit: z.number().int().min(1).max(500),
        page: z.number().int().min(1),
      })
      .strict(),
    result: z.object({ services: z.array(service), total: z.number().int() }),
  }),
  "service.inspect": () => ({ params: z.object({ id: containerRef }).strict(), result: serviceDetails }),
  "service.start": () => ({
    params: z.object({ id: containerRef }).strict(),
    result: z.object({ status: serviceStatus }),
  }),
  "service.stop": () => ({
    params: z.object({ id: containerRef, timeoutSeconds: graceSeconds.optional() }).strict(),
    result: z.object({ status: serviceStatus }),
    deadline: stopDeadline,
  }),
  "service.restart": () => ({
    params: z.object({ id: containerRef, timeoutSeconds: graceSeconds.optional() }).strict(),
    result: z.object({ status: serviceStatus }),
    deadline: stopDeadline,
  }),
  "service.update": () => ({
    params: z.object({ id: containerRef, timeoutSeconds: graceSeconds.optional() }).strict(),
    deadline: (params: { timeoutSeconds?: number | undefined }) => IMAGE_PULL_DEADLINE_MS + stopDeadline(params),
    result: z.object({
      containerId: z.string().describe("The new container's id (unchanged when nothing was updated)"),
      image: z.string(),
      version: z.string().nullable(),
      updated: z.boolean().describe("False when the image was already current"),
    }),
  }),
  "service.logs": () => ({
    params: z
      .object({ id: containerRef, lines: z.number().int().min(1).max(10_000), since: z.string().optional() })
      .strict(),
    result: z.object({ logs: z.array(logEntry) }),
  }),
  "service.stats": () => ({ params: z.object({ id: containerRef }).strict(), result: containerStats }),
  "system.stats": () => ({ params: z.object({}).strict(), result: systemStats }),
  /**
   * A streamed command: the agent sends each new log line as a `chunk` frame (the `chunk`
   * schema) until the container stops or the edge cancels, then one `res`.
   */
  "service.logs.follow": () => ({
    params: z
      .object({ id: containerRef, since: z.string().optional(), lines: z.number().int().min(0).max(10_000).optional() })
      .strict(),
    result: z.object({ ended: z.enum(["container-stopped", "cancelled"]), lines: z.number().int() }),
    chunk: logEntry,
  }),
  "files.list": () => ({
    params: z.object({ ...inWorkspace, path: workspacePath, hidden: z.boolean() }).strict(),
    result: z.object({ path: z.string(), entries: z.array(fileEntry), truncated: z.boolean() }),
  }),
  /** One chunk of a file from `offset`; the edge asks again until `eof` (large files never travel as one frame). */
  "files.read": () => ({
    params: z
      .object({
        ...inWorkspace,
        path: workspacePath,
        offset: z.number().int().min(0),
        length: z
          .number()
          .int()
          .min(1)
          .max(512 * 1024),
      })
      .strict(),
    result: fileChunk,
  }),
  /**
   * One chunk of a write. Chunks of one `uploadId` go to a temporary file beside the target
   * in order; the `last` one renames it into place atomically.
   */
  "files.write": () => ({
    params: z
      .object({
        ...inWorkspace,
        path: workspacePath,
        uploadId: z.uuid(),
        index: z.number().int().min(0),
        data: z.string().describe("base64"),
        last: z.boolean(),
        createParents: z.boolean(),
      })
      .strict(),
    result: z.object({
      path: z.string(),
      size: z.number().int(),
      written: z.boolean().describe("True once the last chunk put the file in place"),
    }),
  }),
  "files.delete": () => ({
    params: z.object({ ...inWorkspace, path: workspacePath, recursive: z.boolean() }).strict(),
    result: z.object({ path: z.string(), deleted: z.literal(true) }),
  }),
  "git.status": () => ({ params: z.object(inWorkspace).strict(), result: gitStatus }),
  "git.log": () => ({
    params: z
      .object({ ...inWorkspace, skip: z.number().int().min(0), limit: z.number().int().min(1).max(200) })
      .strict(),
    result: z.object({ commits: z.array(gitCommitInfo), hasMore: z.boolean() }),
  }),
  "git.commit": () => ({
    params: z
      .object({
        ...inWorkspace,
        message: z.string().min(1).max(10_000),
        paths: z.array(workspacePath).max(1000).optional(),
        all: z.boolean(),
        author: gitAuthor,
      })
      .strict(),
    result: z.object({ hash: z.string(), branch: z.string().nullable(), summary: z.string() }),
  }),
  "git.push": () => ({
    params: z.object({ ...inWorkspace, remote: refName.optional(), branch: refName.optional() }).strict(),
    result: z.object({ remote: z.string(), branch: z.string(), output: z.string() }),
    deadline: () => GIT_NETWORK_DEADLINE_MS,
  }),
  "git.pull": () => ({
    // The author signs the merge commit a pull may have to make (the host's git may have no identity).
    params: z
      .object({ ...inWorkspace, remote: refName.optional(), branch: refName.optional(), author: gitAuthor.optional() })
      .strict(),
    result: z.object({ remote: z.string(), branch: z.string(), output: z.string(), updated: z.boolean() }),
    deadline: () => GIT_NETWORK_DEADLINE_MS,
  }),
  "git.branches": () => ({
    params: z.object(inWorkspace).strict(),
    result: z.object({
      current: z.string().nullable(),
      branches: z.array(z.object({ name: z.string(), current: z.boolean(), remote: z.boolean(), commit: z.string() })),
    }),
  }),
  "git.checkout": () => ({
    params: z.object({ ...inWorkspace, branch: refName, create: z.boolean() }).strict(),
    result: z.object({ branch: z.string(), created: z.boolean() }),
  }),
  "scripts.list": () => ({
    params: z.object(inWorkspace).strict(),
    result: z.object({ scripts: z.array(scriptInfo) }),
  }),
  /** Runs one listed script, streaming its output; never an arbitrary command line. */
  "scripts.run": () => ({
    params: z
      .object({ ...inWorkspace, name: z.string().min(1).max(200), timeoutSeconds: z.number().int().min(1).max(3600) })
      .strict(),
    result: z.object({
      exitCode: z.number().int().nullable(),
      signal: z.string().nullable(),
      timedOut: z.boolean(),
      cancelled: z.boolean(),
      durationMs: z.number().int(),
    }),
    chunk: scriptOutput,
    deadline: (params: { timeoutSeconds: number }) => params.timeoutSeconds * 1000,
  }),
  "settings.read": () => ({
    params: z.object({ ...inWorkspace, section: settingsSection }).strict(),
    result: z.object({ section: settingsSection, value: z.record(z.string(), z.unknown()), exists: z.boolean() }),
  }),
  /** Validated by section (settings, hooks, mcp); unknown keys kept; written atomically. */
  "settings.write": () => ({
    params: z.object({ ...inWorkspace, section: settingsSection, value: z.record(z.string(), z.unknown()) }).strict(),
    result: z.object({ section: settingsSection, value: z.record(z.string(), z.unknown()) }),
  }),
  "openspec.state": () => ({ params: z.object(inWorkspace).strict(), result: openspecState }),
  /** Runs one action that openspec.state currently offers (for the workspace, or for `change`) through the OpenSpec CLI. */
  "openspec.run": () => ({
    params: z.object({ ...inWorkspace, action: openspecAction, change: openspecChangeName.optional() }).strict(),
    result: z.object({
      action: openspecAction,
      change: z.string().nullable(),
      exitCode: z.number().int().nullable().describe("null when the CLI was stopped (timeout)"),
      output: z.string().describe("stdout and stderr interleaved as they came; only the last 256 KiB when longer"),
      timedOut: z.boolean(),
    }),
    deadline: () => OPENSPEC_RUN_DEADLINE_MS,
  }),
  /** Watches the workspace: file changes (debounced, .git ignored) and system stats, until cancelled. */
  "workspace.watch": () => ({
    params: z.object({ ...inWorkspace, statsIntervalMs: z.number().int().min(250).max(60_000) }).strict(),
    result: z.object({ ended: z.literal("cancelled") }),
    chunk: workspaceEvent,
    /** Viewers get each event as it is (the documented `file_changed` / `system_stats` shapes), not wrapped. */
    viewer: "raw",
  }),
  /**
   * Starts (or, with `restore`, restores) an agent session: the agent process of the host's own
   * profile `profile`, in the workspace directory. Messages and state changes then arrive as
   * `agent.session` events numbered per session; the result is the state after start.
   */
  "agentSession.start": () => ({
    params: z
      .object({
        ...inWorkspace,
        sessionId: agentSessionId,
        /** Absent: the host's default profile. */
        profile: agentProfileName.optional(),
        /** Restore a session whose process is gone: ACP session/resume or session/load, numbering on from `lastSeq`. */
        restore: z.object({ acpSessionId: acpSessionId, lastSeq: z.number().int().min(0) }).optional(),
      })
      .strict(),
    result: z.object({ profile: agentProfileName, state: agentSessionState }),
    deadline: () => AGENT_START_DEADLINE_MS,
  }),
  /** Starts a turn and answers at once; the turn's messages follow as events. CONFLICT while a turn runs. */
  "agentSession.prompt": () => ({
    params: z.object({ sessionId: agentSessionId, runId: z.uuid(), message: agentPrompt }).strict(),
    result: z.object({ runId: z.uuid() }),
  }),
  /** Cancels the running turn (pending approvals are answered `cancelled`); false when none runs. */
  "agentSession.cancel": () => ({
    params: z.object({ sessionId: agentSessionId }).strict(),
    result: z.object({ cancelled: z.boolean() }),
  }),
  /**
   * Answers a pending approval with an option of that kind (the agent's own option ids differ
   * per agent). CONFLICT when it is no longer pending (answered, expired, withdrawn).
   */
  "agentSession.answer": () => ({
    params: z
      .object({ sessionId: agentSessionId, approvalId: z.uuid(), kind: approvalOptionKind.or(z.literal("cancelled")) })
      .strict(),
    result: z.object({ state: z.enum(["allowed", "rejected", "cancelled"]), optionId: z.string().optional() }),
  }),
  /** Ends a session: cancels its turn, closes it, stops the process (SIGTERM, then SIGKILL). */
  "agentSession.close": () => ({
    params: z.object({ sessionId: agentSessionId }).strict(),
    result: z.object({ state: agentSessionState }),
    deadline: () => AGENT_STOP_GRACE_MS,
  }),
  /**
   * After a reconnect: for each session the edge knows on this host, the agent re-sends the
   * messages after `lastSeq` it still holds (as events, before this reply) and says what it knows.
   * A session it does not know is `interrupted` (kai-agent restarted).
   */
  "agentSession.sync": () => ({
    params: z
      .object({ sessions: z.array(z.object({ sessionId: agentSessionId, lastSeq: z.number().int().min(0) })).max(256) })
      .strict(),
    result: z.object({
      sessions: z.array(
        z.object({
          sessionId: agentSessionId,
          state: agentSessionState,
          /** Messages after `lastSeq` that the agent no longer holds (its buffer is bounded): first and last seq lost. */
          lost: z.object({ from: z.number().int(), to: z.number().int() }).optional(),
        }),
      ),
    }),
  }),
} satisfies Record<string, () => CommandSchemas>;

interface CommandSchemas {
  params: z.ZodType;
  result: z.ZodType;
  chunk?: z.ZodType;
  viewer?: "raw";
  // biome-ignore lint/suspicious/noExplicitAny: each deadline takes its own command's params (see deadlineOf)
  deadline?: (params: any) => number;
}

/**
 * The command table, each command's schemas built the first time it is looked up: every zod
 * schema is a graph of objects built by running code, and an idle agent uses a handful of its
 * ~50 commands (measured on the bundle: ~0.4 MiB of heap, and fewer of the ~870 schemas an
 * agent otherwise builds at start-up). Keys, `in` and `Object.keys` behave as on a plain object.
 */
export const COMMANDS = lazyTable(DEFINITIONS);

/** Section schemas for `settings.write` (the agent validates with them). */
export const SETTINGS_SCHEMAS = { settings: claudeSettings, hooks: hooksSettings, mcp: mcpServers } as const;

export type Op = keyof typeof COMMANDS;
export const OPS = Object.keys(COMMANDS) as Op[];
export type ParamsOf<O extends Op> = z.infer<(typeof COMMANDS)[O]["params"]>;
export type ResultOf<O extends Op> = z.infer<(typeof COMMANDS)[O]["result"]>;

/** Commands that stream `chunk` frames before their result. */
export type StreamOp = { [O in Op]: (typeof COMMANDS)[O] extends { chunk: z.ZodType } ? O : never }[Op];
export type ChunkOf<O extends StreamOp> = z.infer<(typeof COMMANDS)[O]["chunk"]>;

/** The agent's work budget for one call of `op` (see `stopDeadline` above); 0 for commands without one. */
export function deadlineOf<O extends Op>(op: O, params: ParamsOf<O>): number {
  const command = COMMANDS[op];
  // Indexing by a union op loses the pairing of params and deadline; both come from the same `op`.
  return "deadline" in command ? (command.deadline as (params: ParamsOf<O>) => number)(params) : 0;
}

export function isStreamOp(value: string): value is StreamOp {
  return isOp(value) && "chunk" in COMMANDS[value];
}

export function isOp(value: string): value is Op {
  return Object.hasOwn(COMMANDS, value);
}
