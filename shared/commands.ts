import { z } from "zod";
import { lazyTable } from "./lazy-table";
import { agentProfileName } from "./schemas/agent-profiles";
import { settingsSection } from "./schemas/claude-settings";
import {
  absolutePath,
  agentPrompt,
  approvalOptionKind,
  containerName,
  containerRef,
  gitAuthor,
  imageReference,
  openspecAction,
  openspecChangeName,
  portMapping,
  refName,
  workspacePath,
} from "./schemas/command-params";

/** A workspace is named by its root: its catalog item's directory on the host. */
const inWorkspace = { root: absolutePath };

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
  ping: () => ({ params: z.object({}).strict() }),
  /** Runs `kai-agent doctor` inside the agent, with its own settings; the request itself is the round trip. */
  "doctor.run": () => ({ params: z.object({}).strict(), deadline: () => DOCTOR_DEADLINE_MS }),
  "docker.info": () => ({ params: z.object({}).strict() }),
  "container.list": () => ({
    params: z.object({
      status: z.enum(["running", "stopped", "paused"]).optional(),
      limit: z.number().int().min(1).max(100),
      offset: z.number().int().min(0),
    }),
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
  }),
  "container.inspect": () => ({ params: z.object({ id: containerRef }).strict() }),
  "container.remove": () => ({ params: z.object({ id: containerRef }).strict() }),
  "container.start": () => ({ params: z.object({ id: containerRef }).strict() }),
  "container.stop": () => ({
    params: z.object({ id: containerRef, timeoutSeconds: graceSeconds.optional() }).strict(),
    deadline: stopDeadline,
  }),
  "container.restart": () => ({
    params: z.object({ id: containerRef, timeoutSeconds: graceSeconds.optional() }).strict(),
    deadline: stopDeadline,
  }),
  "directory.list": () => ({ params: z.object({ path: absolutePath.optional() }).strict() }),
  "path.check": () => ({ params: z.object({ path: absolutePath }).strict() }),
  "service.list": () => ({
    params: z
      .object({
        filter: z.enum(["running", "stopped", "all"]),
        limit: z.number().int().min(1).max(500),
        page: z.number().int().min(1),
      })
      .strict(),
  }),
  "service.inspect": () => ({ params: z.object({ id: containerRef }).strict() }),
  "service.start": () => ({ params: z.object({ id: containerRef }).strict() }),
  "service.stop": () => ({
    params: z.object({ id: containerRef, timeoutSeconds: graceSeconds.optional() }).strict(),
    deadline: stopDeadline,
  }),
  "service.restart": () => ({
    params: z.object({ id: containerRef, timeoutSeconds: graceSeconds.optional() }).strict(),
    deadline: stopDeadline,
  }),
  "service.update": () => ({
    params: z.object({ id: containerRef, timeoutSeconds: graceSeconds.optional() }).strict(),
    deadline: (params: { timeoutSeconds?: number | undefined }) => IMAGE_PULL_DEADLINE_MS + stopDeadline(params),
  }),
  "service.logs": () => ({
    params: z
      .object({ id: containerRef, lines: z.number().int().min(1).max(10_000), since: z.string().optional() })
      .strict(),
  }),
  "service.stats": () => ({ params: z.object({ id: containerRef }).strict() }),
  "system.stats": () => ({ params: z.object({}).strict() }),
  /**
   * A streamed command: the agent sends each new log line as a `chunk` frame (the `chunk`
   * schema) until the container stops or the edge cancels, then one `res`.
   */
  "service.logs.follow": () => ({
    params: z
      .object({ id: containerRef, since: z.string().optional(), lines: z.number().int().min(0).max(10_000).optional() })
      .strict(),
    stream: true,
  }),
  "files.list": () => ({ params: z.object({ ...inWorkspace, path: workspacePath, hidden: z.boolean() }).strict() }),
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
  }),
  "files.delete": () => ({
    params: z.object({ ...inWorkspace, path: workspacePath, recursive: z.boolean() }).strict(),
  }),
  "git.status": () => ({ params: z.object(inWorkspace).strict() }),
  "git.log": () => ({
    params: z
      .object({ ...inWorkspace, skip: z.number().int().min(0), limit: z.number().int().min(1).max(200) })
      .strict(),
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
  }),
  "git.push": () => ({
    params: z.object({ ...inWorkspace, remote: refName.optional(), branch: refName.optional() }).strict(),
    deadline: () => GIT_NETWORK_DEADLINE_MS,
  }),
  "git.pull": () => ({
    // The author signs the merge commit a pull may have to make (the host's git may have no identity).
    params: z
      .object({ ...inWorkspace, remote: refName.optional(), branch: refName.optional(), author: gitAuthor.optional() })
      .strict(),
    deadline: () => GIT_NETWORK_DEADLINE_MS,
  }),
  "git.branches": () => ({ params: z.object(inWorkspace).strict() }),
  "git.checkout": () => ({ params: z.object({ ...inWorkspace, branch: refName, create: z.boolean() }).strict() }),
  "scripts.list": () => ({ params: z.object(inWorkspace).strict() }),
  /** Runs one listed script, streaming its output; never an arbitrary command line. */
  "scripts.run": () => ({
    params: z
      .object({ ...inWorkspace, name: z.string().min(1).max(200), timeoutSeconds: z.number().int().min(1).max(3600) })
      .strict(),
    stream: true,
    deadline: (params: { timeoutSeconds: number }) => params.timeoutSeconds * 1000,
  }),
  "settings.read": () => ({ params: z.object({ ...inWorkspace, section: settingsSection }).strict() }),
  /** Validated by section (settings, hooks, mcp); unknown keys kept; written atomically. */
  "settings.write": () => ({
    params: z.object({ ...inWorkspace, section: settingsSection, value: z.record(z.string(), z.unknown()) }).strict(),
  }),
  "openspec.state": () => ({ params: z.object(inWorkspace).strict() }),
  /** Runs one action that openspec.state currently offers (for the workspace, or for `change`) through the OpenSpec CLI. */
  "openspec.run": () => ({
    params: z.object({ ...inWorkspace, action: openspecAction, change: openspecChangeName.optional() }).strict(),
    deadline: () => OPENSPEC_RUN_DEADLINE_MS,
  }),
  /** Watches the workspace: file changes (debounced, .git ignored) and system stats, until cancelled. */
  "workspace.watch": () => ({
    params: z.object({ ...inWorkspace, statsIntervalMs: z.number().int().min(250).max(60_000) }).strict(),
    stream: true,
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
    deadline: () => AGENT_START_DEADLINE_MS,
  }),
  /** Starts a turn and answers at once; the turn's messages follow as events. CONFLICT while a turn runs. */
  "agentSession.prompt": () => ({
    params: z.object({ sessionId: agentSessionId, runId: z.uuid(), message: agentPrompt }).strict(),
  }),
  /** Cancels the running turn (pending approvals are answered `cancelled`); false when none runs. */
  "agentSession.cancel": () => ({ params: z.object({ sessionId: agentSessionId }).strict() }),
  /**
   * Answers a pending approval with an option of that kind (the agent's own option ids differ
   * per agent). CONFLICT when it is no longer pending (answered, expired, withdrawn).
   */
  "agentSession.answer": () => ({
    params: z
      .object({ sessionId: agentSessionId, approvalId: z.uuid(), kind: approvalOptionKind.or(z.literal("cancelled")) })
      .strict(),
  }),
  /** Ends a session: cancels its turn, closes it, stops the process (SIGTERM, then SIGKILL). */
  "agentSession.close": () => ({
    params: z.object({ sessionId: agentSessionId }).strict(),
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
  }),
} satisfies Record<string, () => CommandSchemas>;

interface CommandSchemas {
  params: z.ZodType;
  /** The command streams `chunk` frames before its result (their schema: command-replies.ts). */
  stream?: true;
  // biome-ignore lint/suspicious/noExplicitAny: each deadline takes its own command's params (see deadlineOf)
  deadline?: (params: any) => number;
}

/**
 * Every operation the edge can ask an agent to run: its name, its params, its deadline and
 * whether it streams. The agent's handler map is typed from this table (a missing handler
 * does not compile), the edge's `relay(op, params)` is typed from it, and both sides check
 * params with it. What each answers is in command-replies.ts, which only the edge loads.
 *
 * Each command's schemas are built the first time it is looked up: every zod schema is a
 * graph of objects built by running code, and an idle agent uses a handful of its ~50
 * commands. Keys, `in` and `Object.keys` behave as on a plain object.
 */
export const COMMANDS = lazyTable(DEFINITIONS);

export type Op = keyof typeof COMMANDS;
export const OPS = Object.keys(COMMANDS) as Op[];
export type ParamsOf<O extends Op> = z.infer<(typeof COMMANDS)[O]["params"]>;

/** Commands that stream `chunk` frames before their result. */
export type StreamOp = { [O in Op]: (typeof COMMANDS)[O] extends { stream: true } ? O : never }[Op];

/** The agent's work budget for one call of `op` (see `stopDeadline` above); 0 for commands without one. */
export function deadlineOf<O extends Op>(op: O, params: ParamsOf<O>): number {
  const command = COMMANDS[op];
  // Indexing by a union op loses the pairing of params and deadline; both come from the same `op`.
  return "deadline" in command ? (command.deadline as (params: ParamsOf<O>) => number)(params) : 0;
}

export function isStreamOp(value: string): value is StreamOp {
  return isOp(value) && "stream" in COMMANDS[value];
}

export function isOp(value: string): value is Op {
  return Object.hasOwn(COMMANDS, value);
}
